#pragma once
// Label maps' meaning: class names, their colours, and the value that marks
// pixels to ignore (unlabelled, nodata, labelme's __ignore__).
#include <nlohmann/json.hpp>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace revup {

using Rgb = std::array<uint8_t, 3>;

struct ClassInfo {
  std::string name;
  Rgb color{0, 0, 0};
};

struct ClassTable {
  std::vector<ClassInfo> classes;  // class id = position
  int64_t ignore_index = 255;

  int64_t size() const { return static_cast<int64_t>(classes.size()); }
  // -1 when no class has that name.
  int64_t index_of(const std::string& name) const;

  // Names with the Pascal-VOC colours (the colours labelme writes).
  static ClassTable from_names(const std::vector<std::string>& names);
  // `count` classes named "class_0", ... with the Pascal-VOC colours.
  static ClassTable numbered(int64_t count);
  // labelme's class_names.txt / labels.txt: one name a line; "__ignore__"
  // is the ignore value (not a class), "_background_" is class 0. Throws
  // std::runtime_error naming the file when it is missing or names no class.
  static ClassTable from_labelme_file(const std::string& path);
};

// A class table file: JSON (see from_json) when it ends in .json, else
// labelme's one name a line. Throws std::runtime_error naming the file.
ClassTable read_class_table_file(const std::string& path);

// The Pascal-VOC colormap's colour for `index` (0..255); index 255 is
// (224, 224, 192), what VOC uses for "void".
Rgb voc_color(int64_t index);

void to_json(nlohmann::json& j, const ClassTable& table);
// Accepts {"classes": ["name", {"name": .., "color": [r, g, b]}, ...],
// "ignore_index": 255}; colours left out come from the VOC colormap.
void from_json(const nlohmann::json& j, ClassTable& table);

}  // namespace revup
