#pragma once
/// A small JSON value with a strict parser and a canonical writer (sorted keys, no spaces).
///
/// Specs, cache-entry metadata and manifests are tiny documents; this keeps the library free of a
/// JSON dependency that the GPU build machines do not have.
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace robocache {

/// One JSON value. Integers are kept exact (int64) and apart from other numbers.
class Json {
 public:
  using Array = std::vector<Json>;
  using Object = std::map<std::string, Json, std::less<>>;

  /// null.
  Json() = default;
  /// A boolean.
  static Json boolean(bool b);
  /// An exact integer.
  static Json integer(std::int64_t i);
  /// A non-integer number.
  static Json number(double d);
  /// A string.
  static Json string(std::string s);
  /// An array.
  static Json array(Array a = {});
  /// An object.
  static Json object(Object o = {});

  /// Parses a whole document; throws std::invalid_argument with the byte offset on bad input.
  static Json parse(std::string_view text);
  /// Canonical text: object keys sorted, no insignificant whitespace.
  std::string dump() const;

  bool is_null() const { return std::holds_alternative<std::monostate>(v_); }
  bool is_bool() const { return std::holds_alternative<bool>(v_); }
  bool is_int() const { return std::holds_alternative<std::int64_t>(v_); }
  bool is_number() const { return is_int() || std::holds_alternative<double>(v_); }
  bool is_string() const { return std::holds_alternative<std::string>(v_); }
  bool is_array() const { return std::holds_alternative<Array>(v_); }
  bool is_object() const { return std::holds_alternative<Object>(v_); }

  /// Accessors; each requires the matching is_*() to hold.
  bool as_bool() const { return std::get<bool>(v_); }
  std::int64_t as_int() const { return std::get<std::int64_t>(v_); }
  double as_double() const;
  const std::string& as_string() const { return std::get<std::string>(v_); }
  const Array& as_array() const { return std::get<Array>(v_); }
  const Object& as_object() const { return std::get<Object>(v_); }
  Array& as_array() { return std::get<Array>(v_); }
  Object& as_object() { return std::get<Object>(v_); }

  /// Name of this value's JSON type ("string", "integer", ...), for error messages.
  std::string_view type_name() const;

 private:
  std::variant<std::monostate, bool, std::int64_t, double, std::string, Array, Object> v_;
};

}  // namespace robocache
