#include "core/checkpoint_code_check.h"

#include <caffe2/serialize/inline_container.h>

#include <string_view>

namespace revup {
namespace {

// A recursive-descent reader of the few forms OutputArchive writes. Each
// function consumes from `s` and returns false, leaving `s` anywhere, when
// the text does not match.
class Line {
 public:
  explicit Line(std::string_view s) : s_(s) {}

  bool eat(std::string_view token) {
    if (s_.substr(0, token.size()) != token) return false;
    s_.remove_prefix(token.size());
    return true;
  }
  bool at_end() const { return s_.empty(); }

  bool identifier() {
    size_t n = 0;
    while (n < s_.size() && (is_alpha(s_[n]) || (n > 0 && is_digit(s_[n])))) ++n;
    if (n == 0) return false;
    s_.remove_prefix(n);
    return true;
  }

  // A plain attribute name: an identifier that is not a dunder, which the
  // compiler would read as one of its own class declarations.
  bool attribute_name() {
    const auto rest = s_;
    if (!identifier()) return false;
    const auto name = rest.substr(0, rest.size() - s_.size());
    return !(name.size() >= 4 && name.substr(0, 2) == "__" && name.substr(name.size() - 2) == "__");
  }

  // "..." with printable ASCII inside, no quote and no backslash: every
  // parameter, buffer and optimizer-state key our models and LibTorch use.
  bool string_literal() {
    if (!eat("\"")) return false;
    size_t n = 0;
    while (n < s_.size() && s_[n] != '"') {
      const auto c = static_cast<unsigned char>(s_[n]);
      if (c < 0x20 || c > 0x7e || c == '\\') return false;
      ++n;
    }
    if (n == s_.size()) return false;
    s_.remove_prefix(n + 1);
    return true;
  }

  // ["a", "b", ] as the writer prints a name list (a trailing ", " each).
  bool string_list() {
    if (!eat("[")) return false;
    while (!eat("]")) {
      if (!string_literal() || !eat(", ")) return false;
    }
    return true;
  }

  bool type(int depth = 0) {
    if (depth > 8) return false;  // nesting that no saved attribute has
    for (std::string_view atom : {"Tensor", "str", "float", "int", "bool", "NoneType", "complex"}) {
      if (eat(atom) && !continues_identifier()) return true;
    }
    if (eat("__torch__")) {  // a saved submodule's class: __torch__.a.b.Module
      bool any = false;
      while (eat(".")) {
        if (!identifier()) return false;
        any = true;
      }
      return any;
    }
    for (std::string_view generic : {"Optional[", "List["}) {
      if (eat(generic)) return type(depth + 1) && eat("]");
    }
    if (eat("Dict[")) return type(depth + 1) && eat(", ") && type(depth + 1) && eat("]");
    if (eat("Tuple[")) {
      if (!type(depth + 1)) return false;
      while (eat(", ")) {
        if (!type(depth + 1)) return false;
      }
      return eat("]");
    }
    return false;
  }

 private:
  static bool is_alpha(char c) {
    return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
  }
  static bool is_digit(char c) { return c >= '0' && c <= '9'; }
  bool continues_identifier() const { return !s_.empty() && (is_alpha(s_[0]) || is_digit(s_[0])); }

  std::string_view s_;
};

bool class_header(std::string_view text) {
  Line line(text);
  return line.eat("class ") && line.identifier() && line.eat("(Module):") && line.at_end();
}

bool class_member(std::string_view text) {
  {
    Line line(text);
    if (line.eat("  __parameters__ = ") || line.eat("  __buffers__ = ")) {
      return line.string_list() && line.at_end();
    }
  }
  {
    Line line(text);
    if (line.eat("  __annotations__ = []")) return line.at_end();
  }
  {
    Line line(text);
    if (line.eat("  __annotations__[")) {
      return line.string_literal() && line.eat("] = ") && line.type() && line.at_end();
    }
  }
  Line line(text);
  return line.eat("  ") && line.attribute_name() && line.eat(" : ") && line.type() && line.at_end();
}

}  // namespace

std::string code_record_problem(const std::string& text) {
  std::string_view rest(text);
  size_t number = 0;
  bool seen_class = false;
  while (!rest.empty()) {
    const auto end = rest.find('\n');
    const auto line = rest.substr(0, end);
    rest.remove_prefix(end == std::string_view::npos ? rest.size() : end + 1);
    ++number;
    if (line.empty()) continue;
    const bool ok = seen_class ? class_member(line) : class_header(line);
    if (!ok) {
      const auto shown = std::string(line.substr(0, 80));
      return "line " + std::to_string(number) + " '" + shown + (line.size() > 80 ? "...'" : "'") +
             (seen_class ? " is not a parameter, buffer or attribute declaration"
                         : " is not the class header 'class Module(Module):'");
    }
    seen_class = true;
  }
  return seen_class ? "" : "empty (no class declared)";
}

std::string archive_code_problem(const std::string& path) {
  caffe2::serialize::PyTorchStreamReader reader(path);
  for (const auto& name : reader.getAllRecords()) {
    const bool source = name.rfind("code/", 0) == 0 && name.size() > 3 &&
                        name.compare(name.size() - 3, 3, ".py") == 0;
    if (!source) continue;
    auto [data, size] = reader.getRecord(name);
    const std::string text(static_cast<const char*>(data.get()), size);
    const auto why = code_record_problem(text);
    if (!why.empty()) {
      return "its TorchScript record " + name + ", " + why +
             ", is not what LibTorch's checkpoint writer writes; compiling it can crash LibTorch";
    }
  }
  return "";
}

}  // namespace revup
