#include "io/class_table.h"

#include <gtest/gtest.h>

#include "tests/io/test_files.h"

namespace revup {
namespace {

TEST(ClassTable, VocColormapMatchesTheDevkit) {
  EXPECT_EQ(voc_color(0), (Rgb{0, 0, 0}));
  EXPECT_EQ(voc_color(1), (Rgb{128, 0, 0}));
  EXPECT_EQ(voc_color(2), (Rgb{0, 128, 0}));
  EXPECT_EQ(voc_color(7), (Rgb{128, 128, 128}));
  EXPECT_EQ(voc_color(15), (Rgb{192, 128, 128}));   // person
  EXPECT_EQ(voc_color(255), (Rgb{224, 224, 192}));  // void
}

TEST(ClassTable, JsonRoundTrip) {
  auto t = ClassTable::from_names({"background", "road", "water"});
  t.classes[2].color = {1, 2, 3};
  t.ignore_index = 99;
  const nlohmann::json j = t;
  const auto back = nlohmann::json::parse(j.dump()).get<ClassTable>();
  ASSERT_EQ(back.size(), 3);
  EXPECT_EQ(back.classes[1].name, "road");
  EXPECT_EQ(back.classes[1].color, voc_color(1));
  EXPECT_EQ(back.classes[2].color, (Rgb{1, 2, 3}));
  EXPECT_EQ(back.ignore_index, 99);
  EXPECT_EQ(back.index_of("water"), 2);
  EXPECT_EQ(back.index_of("lava"), -1);
  // Plain names get VOC colours.
  const auto plain = nlohmann::json::parse(R"({"classes": ["a", "b"]})").get<ClassTable>();
  EXPECT_EQ(plain.classes[1].color, voc_color(1));
  EXPECT_EQ(plain.ignore_index, 255);
}

TEST(ClassTable, LabelmeNamesFile) {
  const auto dir = testing::scratch_dir();
  const auto path =
      testing::write_file(dir + "/labels.txt", "__ignore__\n_background_\ncar\r\nperson\n\n");
  const auto t = ClassTable::from_labelme_file(path);
  ASSERT_EQ(t.size(), 3);
  EXPECT_EQ(t.classes[0].name, "_background_");
  EXPECT_EQ(t.classes[2].name, "person");
  EXPECT_EQ(t.ignore_index, 255);
  testing::expect_error([&] { ClassTable::from_labelme_file(dir + "/missing.txt"); },
                        dir + "/missing.txt", "not found");
  const auto empty = testing::write_file(dir + "/empty.txt", "__ignore__\n");
  testing::expect_error([&] { ClassTable::from_labelme_file(empty); }, empty, "names no class");
}

}  // namespace
}  // namespace revup
