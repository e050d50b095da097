#pragma once
/// Reads the ELF header fields of a cubin that the NVRTC tests check.
#include <cstdint>
#include <cstring>
#include <string>

namespace robocache::testing {

/// What an ELF header says about a CUDA binary.
struct CubinHeader {
  bool elf_magic = false;
  int elf_class = 0;       ///< 2 = ELFCLASS64
  int abi_version = 0;     ///< EI_ABIVERSION: 8 for the CUDA 13 cubin layout, 7 before it
  std::uint16_t machine = 0;  ///< 190 = EM_CUDA
  std::uint32_t flags = 0;
  /// SM number from e_flags: bits 8..15 from ABI version 8 on, bits 0..7 before.
  int sm() const { return abi_version >= 8 ? static_cast<int>((flags >> 8) & 0xff) : static_cast<int>(flags & 0xff); }
};

/// Parses the fixed part of an ELF64 little-endian header (all cubins are).
inline CubinHeader read_cubin_header(const std::string& bytes) {
  CubinHeader h;
  if (bytes.size() < 64) return h;
  h.elf_magic = bytes.compare(0, 4, "\x7f" "ELF") == 0;
  h.elf_class = static_cast<unsigned char>(bytes[4]);
  h.abi_version = static_cast<unsigned char>(bytes[8]);
  std::memcpy(&h.machine, bytes.data() + 18, 2);
  std::memcpy(&h.flags, bytes.data() + 48, 4);
  return h;
}

}  // namespace robocache::testing
