#include "io/class_table.h"

#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "core/json_number.h"

namespace revup {

int64_t ClassTable::index_of(const std::string& name) const {
  for (size_t i = 0; i < classes.size(); ++i) {
    if (classes[i].name == name) return static_cast<int64_t>(i);
  }
  return -1;
}

Rgb voc_color(int64_t index) {
  // The bit-interleaving construction from the VOC devkit (labelcolormap.m).
  Rgb c{0, 0, 0};
  int64_t id = index;
  for (int shift = 7; shift >= 0; --shift) {
    for (int ch = 0; ch < 3; ++ch) c[ch] |= static_cast<uint8_t>(((id >> ch) & 1) << shift);
    id >>= 3;
  }
  return c;
}

ClassTable ClassTable::from_names(const std::vector<std::string>& names) {
  ClassTable t;
  for (size_t i = 0; i < names.size(); ++i) {
    t.classes.push_back({names[i], voc_color(static_cast<int64_t>(i))});
  }
  return t;
}

ClassTable ClassTable::numbered(int64_t count) {
  std::vector<std::string> names;
  for (int64_t i = 0; i < count; ++i) names.push_back("class_" + std::to_string(i));
  return from_names(names);
}

ClassTable ClassTable::from_labelme_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(path + ": file not found or unreadable");
  std::vector<std::string> names;
  std::string line;
  while (std::getline(in, line)) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (line.empty() || line == "__ignore__") continue;  // ignore keeps its value
    names.push_back(line);
  }
  if (names.empty()) throw std::runtime_error(path + ": names no class");
  return from_names(names);
}

ClassTable read_class_table_file(const std::string& path) {
  if (std::filesystem::path(path).extension() != ".json")
    return ClassTable::from_labelme_file(path);
  std::ifstream in(path);
  if (!in) throw std::runtime_error(path + ": file not found or unreadable");
  try {
    return nlohmann::json::parse(in).get<ClassTable>();
  } catch (const std::exception& e) {
    throw std::runtime_error(path + ": " + e.what());
  }
}

void to_json(nlohmann::json& j, const ClassTable& table) {
  auto classes = nlohmann::json::array();
  for (const auto& c : table.classes) {
    classes.push_back({{"name", c.name}, {"color", {c.color[0], c.color[1], c.color[2]}}});
  }
  j = {{"classes", classes}, {"ignore_index", table.ignore_index}};
}

void from_json(const nlohmann::json& j, ClassTable& table) {
  table = ClassTable{};
  const auto& classes = j.is_array() ? j : j.at("classes");
  for (const auto& c : classes) {
    const auto index = static_cast<int64_t>(table.classes.size());
    if (c.is_string()) {
      table.classes.push_back({c.get<std::string>(), voc_color(index)});
      continue;
    }
    ClassInfo info{c.at("name").get<std::string>(), voc_color(index)};
    if (c.contains("color")) {
      const auto& rgb = c.at("color");
      if (!rgb.is_array() || rgb.size() != 3) {
        throw std::runtime_error("class '" + info.name + "': color must be [r, g, b]");
      }
      for (int k = 0; k < 3; ++k) info.color[k] = json_number<uint8_t>(rgb[k], "color");
    }
    table.classes.push_back(info);
  }
  if (j.is_object()) table.ignore_index = json_number(j, "ignore_index", table.ignore_index);
}

}  // namespace revup
