#include "core/checkpoint_archive_check.h"

#include <caffe2/serialize/inline_container.h>

#include <c10/util/StringUtil.h>

#include <cstdint>
#include <ios>
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

// The length of a little-endian unsigned integer of `width` bytes at `at`.
uint64_t little_endian(const std::string& bytes, size_t at, size_t width) {
  uint64_t value = 0;
  for (size_t i = 0; i < width; ++i) {
    value |= static_cast<uint64_t>(static_cast<unsigned char>(bytes[at + i])) << (8 * i);
  }
  return value;
}

// Argument sizes of pickle opcodes (protocols 0-5). A length-prefixed
// opcode has its prefix's width in `prefix` and a payload of that length.
struct Opcode {
  size_t fixed = 0;   // bytes of argument
  size_t prefix = 0;  // width of a length prefix (then that many bytes)
  int lines = 0;      // newline-terminated arguments
  bool known = false;
};

Opcode opcode(unsigned char op) {
  switch (op) {
    case '(':
    case '.':
    case '0':
    case '1':
    case '2':
    case 'N':
    case 0x88:
    case 0x89:
    case ']':
    case 'a':
    case 'e':
    case 'l':
    case ')':
    case 't':
    case 0x85:
    case 0x86:
    case 0x87:
    case '}':
    case 'd':
    case 's':
    case 'u':
    case 'b':
    case 'R':
    case 0x81:
    case 'Q':
    case 0x8f:
    case 0x90:
    case 0x91:
    case 0x92:
    case 0x93:
    case 0x94:
    case 0x97:
    case 0x98:
    case 'o':
      return {0, 0, 0, true};
    case 'K':
    case 'q':
    case 'h':
    case 0x80:
    case 0x82:
      return {1, 0, 0, true};
    case 'M':
    case 0x83:
      return {2, 0, 0, true};
    case 'J':
    case 'r':
    case 'j':
    case 0x84:
      return {4, 0, 0, true};
    case 'G':
    case 0x95:  // BINFLOAT; FRAME's length is checked below
      return {8, 0, 0, true};
    case 'U':
    case 0x8c:
    case 'C':
    case 0x8a:
      return {0, 1, 0, true};
    case 'X':
    case 'B':
    case 'T':
    case 0x8b:
      return {0, 4, 0, true};
    case 0x8d:
    case 0x8e:
    case 0x96:
      return {0, 8, 0, true};
    case 'I':
    case 'L':
    case 'F':
    case 'S':
    case 'V':
    case 'P':
    case 'g':
    case 'p':
      return {0, 0, 1, true};
    case 'c':
    case 'i':
      return {0, 0, 2, true};
    default:
      return {};
  }
}

}  // namespace

std::string pickle_problem(const std::string& bytes) {
  size_t at = 0;
  while (at < bytes.size()) {
    const auto op = static_cast<unsigned char>(bytes[at]);
    const Opcode o = opcode(op);
    if (!o.known || op == '.') return "";
    const size_t start = at++;
    const size_t left = bytes.size() - at;
    const auto where =
        "at byte " + std::to_string(start) + ", opcode 0x" + c10::str(std::hex, int(op));
    if (o.fixed > left || o.prefix > left) return where + ": the pickle ends inside its argument";
    if (op == 0x95 && little_endian(bytes, at, 8) > left - 8) {
      return where + ": a frame longer than the pickle";
    }
    at += o.fixed;
    if (o.prefix > 0) {
      const uint64_t length = little_endian(bytes, at, o.prefix);
      at += o.prefix;
      if (length > bytes.size() - at) {
        return where + ": a string of " + std::to_string(length) + " bytes with " +
               std::to_string(bytes.size() - at) + " left in the record";
      }
      at += length;
    }
    for (int line = 0; line < o.lines; ++line) {
      const auto end = bytes.find('\n', at);
      if (end == std::string::npos) return where + ": an argument without its newline";
      at = end + 1;
    }
  }
  return "";  // no STOP: LibTorch reports the truncation itself
}

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

std::string archive_problem(const std::string& path) {
  const auto ends_with = [](const std::string& s, const std::string& tail) {
    return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
  };
  caffe2::serialize::PyTorchStreamReader reader(path);
  for (const auto& name : reader.getAllRecords()) {
    const bool source = name.rfind("code/", 0) == 0 && ends_with(name, ".py");
    const bool pickle = ends_with(name, ".pkl");
    if (!source && !pickle) continue;
    auto [data, size] = reader.getRecord(name);
    const std::string bytes(static_cast<const char*>(data.get()), size);
    if (source) {
      const auto why = code_record_problem(bytes);
      if (!why.empty()) {
        return "its TorchScript record " + name + ", " + why +
               ", is not what LibTorch's checkpoint writer writes; compiling it can crash LibTorch";
      }
    } else {
      const auto why = pickle_problem(bytes);
      if (!why.empty()) return "its pickle " + name + " is damaged (" + why + ")";
    }
  }
  return "";
}

}  // namespace revup
