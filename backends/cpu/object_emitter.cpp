#include "backends/cpu/object_emitter.h"

#include <fmt/format.h>
#include <llvm/Analysis/CGSCCPassManager.h>
#include <llvm/Analysis/LoopAnalysisManager.h>
#include <llvm/IR/DiagnosticInfo.h>
#include <llvm/IR/DiagnosticPrinter.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/LegacyPassManager.h>
#include <llvm/IR/Module.h>
#include <llvm/IR/PassManager.h>
#include <llvm/IR/Verifier.h>
#include <llvm/IRReader/IRReader.h>
#include <llvm/Passes/PassBuilder.h>
#include <llvm/Support/MemoryBuffer.h>
#include <llvm/Support/SourceMgr.h>
#include <llvm/Support/raw_ostream.h>

#include "support/errors.h"
#include "backends/cpu/host_target.h"

namespace robocache::llvm_ir {

namespace {

// Collects LLVM diagnostics into a log: the context's default handler would print them and
// exit the process on an error.
struct DiagnosticLog {
  std::string text;
  bool has_error = false;

  static void handle(const llvm::DiagnosticInfo& info, void* self) {
    auto* log = static_cast<DiagnosticLog*>(self);
    llvm::raw_string_ostream os(log->text);
    llvm::DiagnosticPrinterRawOStream printer(os);
    os << llvm::LLVMContext::getDiagnosticMessagePrefix(info.getSeverity()) << ": ";
    info.print(printer);
    os << "\n";
    if (info.getSeverity() == llvm::DS_Error) log->has_error = true;
  }
};

[[noreturn]] void fail(const char* stage, const KernelSource& source, const std::string& log) {
  throw CompileError(stage, source.spec_json, log, object_compile_options());
}

void optimize(llvm::Module& m, llvm::TargetMachine& tm) {
  llvm::PipelineTuningOptions tuning;
  tuning.LoopVectorization = true;
  tuning.SLPVectorization = true;
  tuning.LoopUnrolling = true;
  tuning.LoopInterleaving = true;
  llvm::PassBuilder builder(&tm, tuning);
  llvm::LoopAnalysisManager lam;
  llvm::FunctionAnalysisManager fam;
  llvm::CGSCCAnalysisManager cgam;
  llvm::ModuleAnalysisManager mam;
  builder.registerModuleAnalyses(mam);
  builder.registerCGSCCAnalyses(cgam);
  builder.registerFunctionAnalyses(fam);
  builder.registerLoopAnalyses(lam);
  builder.crossRegisterProxies(lam, fam, cgam, mam);
  builder.buildPerModuleDefaultPipeline(llvm::OptimizationLevel::O3).run(m, mam);
}

}  // namespace

std::string object_compile_options() {
  const HostTarget& host = host_target();
  return fmt::format("-O3 -fp-contract=off -relocation-model=pic -code-model=small -mtriple={} -mcpu={} -mattr={}",
                     host.triple, host.target.arch, host.target.features);
}

namespace {

// Parses, optimises and runs the code generator, writing `file_type` (object file or assembly).
std::string emit_file(const KernelSource& source, llvm::CodeGenFileType file_type) {
  const HostTarget& host = host_target();
  if (source.language != "llvm-ir")
    fail("llvm-parse", source, fmt::format("expected language 'llvm-ir', got '{}'", source.language));
  if (!(source.target == host.target))
    fail("llvm-parse", source,
         fmt::format("the source targets {} but this backend compiles for the host, {}", source.target.identity(),
                     host.target.identity()));

  llvm::LLVMContext ctx;
  DiagnosticLog diagnostics;
  ctx.setDiagnosticHandlerCallBack(&DiagnosticLog::handle, &diagnostics);

  llvm::SMDiagnostic parse_error;
  auto buffer = llvm::MemoryBuffer::getMemBuffer(source.text, source.entry, /*RequiresNullTerminator=*/false);
  std::unique_ptr<llvm::Module> m = llvm::parseIR(buffer->getMemBufferRef(), parse_error, ctx);
  if (!m) {
    std::string log;
    llvm::raw_string_ostream os(log);
    parse_error.print(source.entry.c_str(), os, /*ShowColors=*/false);
    fail("llvm-parse", source, os.str());
  }
  {
    std::string log;
    llvm::raw_string_ostream os(log);
    if (llvm::verifyModule(*m, &os)) fail("llvm-parse", source, "the module does not verify:\n" + os.str());
  }
  llvm::Function* entry = m->getFunction(source.entry);
  if (!entry || entry->isDeclaration())
    fail("llvm-parse", source, fmt::format("the module does not define the entry '{}'", source.entry));

  std::unique_ptr<llvm::TargetMachine> tm = create_host_target_machine();
  m->setTargetTriple(host.triple);
  m->setDataLayout(tm->createDataLayout());
  // Function attributes win over the TargetMachine defaults in the vectoriser's cost model.
  for (llvm::Function& f : *m) {
    if (f.isDeclaration()) continue;
    f.addFnAttr("target-cpu", host.target.arch);
    f.addFnAttr("target-features", host.machine_features);
  }

  optimize(*m, *tm);
  if (diagnostics.has_error) fail("llvm-optimize", source, diagnostics.text);
  {
    std::string log;
    llvm::raw_string_ostream os(log);
    if (llvm::verifyModule(*m, &os)) fail("llvm-optimize", source, "the optimised module does not verify:\n" + os.str());
  }

  llvm::SmallVector<char, 0> object;
  {
    llvm::raw_svector_ostream os(object);
    llvm::legacy::PassManager codegen;
    if (tm->addPassesToEmitFile(codegen, os, nullptr, file_type))
      fail("llvm-emit", source, "the target machine cannot emit this file type");
    codegen.run(*m);
  }
  if (diagnostics.has_error) fail("llvm-emit", source, diagnostics.text);
  return std::string(object.begin(), object.end());
}

}  // namespace

std::string compile_to_assembly(const KernelSource& source) { return emit_file(source, llvm::CGFT_AssemblyFile); }

ObjectCode compile_to_object(const KernelSource& source) {
  std::string object = emit_file(source, llvm::CGFT_ObjectFile);
  ObjectCode code;
  code.target = source.target;
  code.config = source.config;
  code.format = "elf-object";
  code.bytes = std::move(object);
  code.symbol = source.entry;
  code.spec_json = source.spec_json;
  code.toolchain = llvm_toolchain();
  return code;
}

}  // namespace robocache::llvm_ir
