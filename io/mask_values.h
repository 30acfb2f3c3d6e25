#pragma once
// How the values stored in a user's mask files become class ids. Masks come
// in many conventions: 0/255 binary masks (what annotation tools, image
// editors and OpenCV write, often with a few re-encoded edge values), class
// indices 0..K-1, sparse values (0, 10, 20, ...), colour-coded RGB, VOC's
// indices with 255 = "void". Reading one convention as another fails
// silently (a 0/255 mask read as VOC trains on background alone), so the
// convention is decided once over all masks, reported to the user, stored
// in the run, and reused by evaluate and predict.
#include <torch/types.h>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "io/class_table.h"

namespace revup {

enum class MaskValueConvention {
  kAuto,    // decided from the values (see decide_mask_reading)
  kBinary,  // two classes: values above the midpoint of the lowest and highest are foreground
  kIndex,   // values are class ids
  kVoc,     // class ids, 255 (and labelme's -1) ignored
};

// "auto", "binary", "index" or "voc"; throws std::invalid_argument otherwise.
MaskValueConvention parse_mask_values(const std::string& name);

struct MaskValueOptions {
  MaskValueConvention convention = MaskValueConvention::kAuto;
  // A raw value that marks pixels to ignore (--ignore-value V), on top of the
  // convention's own; `ignore_nothing` (--ignore-value none) turns every
  // ignore value off, VOC's and a class table's included.
  std::optional<int64_t> ignore_value;
  bool ignore_nothing = false;
  // More distinct values than this in masks without a class table are
  // refused as "probably an image": what label maps of a few classes never
  // hold and photos or intensity images always do.
  int64_t max_auto_classes = 64;
};

// Raw value -> pixels. Colour masks count RGB codes (r << 16 | g << 8 | b).
using ValueCounts = std::map<int64_t, int64_t>;
ValueCounts count_values(const torch::Tensor& raw);
void add_counts(ValueCounts& into, const ValueCounts& more);
// [[value, pixels], ...] for config.json, the `max_values` most frequent.
nlohmann::json mask_values_json(const ValueCounts& counts, size_t max_values = 256);

// The decision, as stored in a run's config.json ("masks").
struct MaskReading {
  std::string convention = "index";  // binary | index | voc | sparse | colour | class table
  std::string reason;                // why, for the report
  // binary, sparse, colour: the raw value of each class (binary: the low and
  // high value); index: empty, the value is the id.
  std::vector<int64_t> values;
  int64_t threshold = 0;                // binary: above it is class 1
  std::vector<int64_t> ignored_values;  // raw values read as "ignore"
  int64_t ignore_index = 255;           // the id ignored pixels get
  bool colour = false;                  // values are RGB codes

  // Raw values [H, W] (int64) -> class ids. Throws std::runtime_error naming
  // `path` for a value the reading has no class for (sparse and colour).
  torch::Tensor apply(const torch::Tensor& raw, const std::string& path) const;
  // Class ids -> the values the user's masks use, so a prediction reads like
  // the masks it was trained on; ignored pixels become the first ignored
  // value, or the lowest class value when nothing was ignored.
  torch::Tensor to_values(const torch::Tensor& ids) const;
  // The class of one raw value, or ignore_index (nullopt: no class).
  std::optional<int64_t> class_of(int64_t value) const;
  // Pixels per class id (ignored pixels left out) from raw value counts.
  std::vector<int64_t> class_pixels(const ValueCounts& counts, int64_t num_classes) const;
  // True when values are the class ids unchanged (index, voc, class table).
  bool is_identity() const { return values.empty(); }
};

void to_json(nlohmann::json& j, const MaskReading& r);
void from_json(const nlohmann::json& j, MaskReading& r);

// Decides how to read masks whose raw values over all files are `counts`.
//  - `voc_layout`, or asked for VOC: ids, 255 and -1 ignored.
//  - a class table (classes.json, class_names.txt, a manifest's "classes",
//    --classes): ids, the table's ignore value ignored.
//  - otherwise (auto), one-channel masks: 0 and a high value (1, 255 or
//    65535) present, and with the values within a tenth of the range of
//    either holding at least 98 % of the pixels: binary (every value goes
//    to the nearer end); values 0..K-1 all present:
//    index; at most max_auto_classes distinct values: sparse, mapped to
//    0..K-1 in value order; more: refused as probably an image. Colour
//    masks: one class per colour, black first.
// `table` is the class table when there is one; the returned table (through
// `classes`) names what was found. Throws std::runtime_error naming `where`
// for what cannot be right.
MaskReading decide_mask_reading(const ValueCounts& counts, bool colour, bool voc_layout,
                                const std::optional<ClassTable>& table,
                                const MaskValueOptions& options, const std::string& where,
                                ClassTable& classes);

// Refuses masks that leave nothing to learn: fewer than two classes with
// labelled pixels (say, a binary mask read with 255 as ignore). Throws
// std::runtime_error naming `where`, what was found and the option to use.
void check_learnable(const MaskReading& reading, const ValueCounts& counts,
                     const ClassTable& classes, const std::string& where);

// "masks hold 0 (97.4 %) and 255 (2.6 %): read as binary, ..." with one line
// per value (the first `max_rows`), its pixels, share and class.
std::string describe_mask_reading(const MaskReading& reading, const ValueCounts& counts,
                                  const ClassTable& classes, size_t max_rows = 16);

}  // namespace revup
