#include "io/mask_values.h"

#include <torch/torch.h>

#include <algorithm>
#include <cstdio>
#include <stdexcept>

#include "core/json_number.h"

namespace revup {

namespace {

// 0, the high value and values within a tenth of the range of either hold
// at least this share of the pixels of a binary mask.
constexpr double kBinaryShare = 0.98;

std::string value_text(int64_t v, bool colour) {
  if (!colour) return std::to_string(v);
  return "rgb(" + std::to_string((v >> 16) & 255) + "," + std::to_string((v >> 8) & 255) + "," +
         std::to_string(v & 255) + ")";
}

std::string percent(int64_t part, int64_t total) {
  char buf[32];
  const double p = total > 0 ? 100.0 * static_cast<double>(part) / static_cast<double>(total) : 0;
  std::snprintf(buf, sizeof buf, p > 0 && p < 0.01 ? "%.4f %%" : "%.2f %%", p);
  return buf;
}

int64_t total_of(const ValueCounts& counts) {
  int64_t n = 0;
  for (const auto& [v, c] : counts) n += c;
  return n;
}

bool contains(const std::vector<int64_t>& v, int64_t x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

// The counts without the values that are ignored anyway.
ValueCounts without(const ValueCounts& counts, const std::vector<int64_t>& ignored) {
  ValueCounts out;
  for (const auto& [v, c] : counts) {
    if (!contains(ignored, v)) out[v] = c;
  }
  return out;
}

ClassTable named_by_value(const std::vector<int64_t>& values, bool colour) {
  ClassTable t;
  for (size_t i = 0; i < values.size(); ++i) {
    const int64_t v = values[i];
    ClassInfo c;
    c.name = v == 0 ? "background" : (colour ? value_text(v, true) : "value_" + std::to_string(v));
    c.color = colour ? Rgb{static_cast<uint8_t>((v >> 16) & 255),
                           static_cast<uint8_t>((v >> 8) & 255), static_cast<uint8_t>(v & 255)}
                     : voc_color(static_cast<int64_t>(i));
    t.classes.push_back(c);
  }
  return t;
}

// Ids must stay clear of the ignore id: past 255 classes it moves above them.
void place_ignore_index(MaskReading& r, ClassTable& classes) {
  if (classes.size() > 255) classes.ignore_index = classes.size();
  r.ignore_index = classes.ignore_index;
}

// Ids without a class table: the largest makes the class count. Refused when
// that is many classes of which most hold no pixel (0/255 masks with a few
// edge values read as ids: 255 classes, three with pixels).
void check_implied_classes(const ValueCounts& labelled, const MaskValueOptions& options,
                           const std::string& convention, const std::string& where) {
  if (labelled.empty()) return;
  const int64_t implied = labelled.rbegin()->first + 1;
  const auto present = static_cast<int64_t>(labelled.size());
  if (implied > options.max_auto_classes && 2 * present < implied) {
    throw std::runtime_error(
        where + ": read as " + convention + ", value " + std::to_string(implied - 1) + " makes " +
        std::to_string(implied) + " classes of which " + std::to_string(present) +
        " hold pixels. If the masks are binary (0 and 255, edges between), use --mask-values "
        "binary; if the values are class ids, give their class table (--classes)");
  }
}

}  // namespace

MaskValueConvention parse_mask_values(const std::string& name) {
  if (name == "auto") return MaskValueConvention::kAuto;
  if (name == "binary") return MaskValueConvention::kBinary;
  if (name == "index") return MaskValueConvention::kIndex;
  if (name == "voc") return MaskValueConvention::kVoc;
  throw std::invalid_argument("mask values '" + name + "': expected auto, binary, index or voc");
}

ValueCounts count_values(const torch::Tensor& raw) {
  const auto flat = raw.reshape(-1).to(torch::kInt64);
  ValueCounts out;
  if (flat.numel() == 0) return out;
  auto [values, inverse, counts] = torch::_unique2(flat, /*sorted=*/true, false, true);
  const auto v = values.contiguous(), c = counts.contiguous();
  const auto* vp = v.data_ptr<int64_t>();
  const auto* cp = c.data_ptr<int64_t>();
  for (int64_t i = 0; i < v.numel(); ++i) out[vp[i]] = cp[i];
  return out;
}

void add_counts(ValueCounts& into, const ValueCounts& more) {
  for (const auto& [v, c] : more) into[v] += c;
}

nlohmann::json mask_values_json(const ValueCounts& counts, size_t max_values) {
  std::vector<std::pair<int64_t, int64_t>> rows(counts.begin(), counts.end());
  std::stable_sort(rows.begin(), rows.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  auto out = nlohmann::json::array();
  for (size_t i = 0; i < rows.size() && i < max_values; ++i) {
    out.push_back({rows[i].first, rows[i].second});
  }
  return out;
}

std::optional<int64_t> MaskReading::class_of(int64_t value) const {
  if (contains(ignored_values, value)) return ignore_index;
  if (convention == "binary") {
    if (value < values.front() || value > values.back()) return std::nullopt;
    return value > threshold ? 1 : 0;
  }
  if (is_identity()) return value;
  const auto it = std::find(values.begin(), values.end(), value);
  if (it == values.end()) return std::nullopt;
  return static_cast<int64_t>(it - values.begin());
}

torch::Tensor MaskReading::apply(const torch::Tensor& raw_in, const std::string& path) const {
  const auto raw = raw_in.to(torch::kInt64);
  torch::Tensor ids;
  if (convention == "binary") {
    // A value beyond both ends is no stray edge but a class the binary masks
    // did not have (a 2 in masks that held 0 and 1).
    auto outside = raw.lt(values.front()).logical_or(raw.gt(values.back()));
    for (int64_t v : ignored_values) outside.logical_and_(raw.ne(v));
    if (outside.any().item<bool>()) {
      throw std::runtime_error(
          path + ": value " + std::to_string(raw.masked_select(outside)[0].item<int64_t>()) +
          " is outside " + std::to_string(values.front()) + ".." + std::to_string(values.back()) +
          ", the range of the binary masks the classes were read from (" +
          std::to_string(outside.sum().item<int64_t>()) + " such pixels)");
    }
    ids = raw.gt(threshold).to(torch::kInt64);
  } else if (is_identity()) {
    ids = raw.clone();
  } else {
    // Sorted lookup: values are few, images large.
    const auto table = torch::tensor(values, torch::kInt64);
    const auto [sorted, order] = table.sort();
    const auto flat = raw.reshape(-1);
    const auto pos = torch::searchsorted(sorted, flat).clamp_max(sorted.numel() - 1);
    auto known = sorted.index({pos}).eq(flat);
    for (int64_t v : ignored_values) known.logical_or_(flat.eq(v));
    if (!known.all().item<bool>()) {
      const auto bad = flat.masked_select(known.logical_not());
      std::string list;
      for (size_t i = 0; i < values.size() && i < 12; ++i) {
        list += (i ? ", " : "") + value_text(values[i], colour);
      }
      throw std::runtime_error(path + ": value " + value_text(bad[0].item<int64_t>(), colour) +
                               " is none of the values the classes were read from (" + list +
                               (values.size() > 12 ? ", ..." : "") + "; " +
                               std::to_string(bad.numel()) + " such pixels)");
    }
    ids = order.index({pos}).view(raw.sizes());
  }
  for (int64_t v : ignored_values) ids.masked_fill_(raw.eq(v), ignore_index);
  return ids;
}

torch::Tensor MaskReading::to_values(const torch::Tensor& ids_in) const {
  const auto ids = ids_in.to(torch::kInt64);
  const auto ignored = ids.eq(ignore_index);
  torch::Tensor out;
  int64_t ignore_out;
  if (is_identity()) {
    out = ids.clone();
    ignore_out = ignored_values.empty() ? ignore_index : ignored_values.front();
  } else {
    const auto table = torch::tensor(values, torch::kInt64);
    out = table.index({ids.clamp(0, table.numel() - 1)});
    ignore_out = ignored_values.empty() ? values.front() : ignored_values.front();
  }
  return out.masked_fill_(ignored, ignore_out);
}

std::vector<int64_t> MaskReading::class_pixels(const ValueCounts& counts,
                                               int64_t num_classes) const {
  std::vector<int64_t> pixels(static_cast<size_t>(std::max<int64_t>(num_classes, 0)), 0);
  for (const auto& [v, c] : counts) {
    const auto id = class_of(v);
    if (id && *id != ignore_index && *id >= 0 && *id < num_classes) {
      pixels[static_cast<size_t>(*id)] += c;
    }
  }
  return pixels;
}

void to_json(nlohmann::json& j, const MaskReading& r) {
  j = {{"convention", r.convention},
       {"reason", r.reason},
       {"values", r.values},
       {"threshold", r.threshold},
       {"ignored_values", r.ignored_values},
       {"ignore_index", r.ignore_index},
       {"colour", r.colour}};
}

void from_json(const nlohmann::json& j, MaskReading& r) {
  r.convention = j.at("convention").get<std::string>();
  r.reason = j.value("reason", "");
  r.values = json_numbers(j, "values", std::vector<int64_t>{});
  r.threshold = json_number(j, "threshold", int64_t{0});
  r.ignored_values = json_numbers(j, "ignored_values", std::vector<int64_t>{});
  r.ignore_index = json_number(j, "ignore_index", int64_t{255});
  r.colour = j.value("colour", false);
  static const std::vector<std::string> known = {"binary", "index",  "voc",
                                                 "sparse", "colour", "class table"};
  if (std::find(known.begin(), known.end(), r.convention) == known.end()) {
    throw std::runtime_error("unknown mask convention '" + r.convention + "'");
  }
  if ((r.convention == "binary" && r.values.size() != 2) ||
      ((r.convention == "sparse" || r.convention == "colour") && r.values.empty())) {
    throw std::runtime_error("mask convention '" + r.convention + "' without its values");
  }
}

MaskReading decide_mask_reading(const ValueCounts& all_counts, bool colour, bool voc_layout,
                                const std::optional<ClassTable>& table,
                                const MaskValueOptions& options, const std::string& where,
                                ClassTable& classes) {
  using C = MaskValueConvention;
  MaskReading r;
  r.colour = colour;
  auto ignores = [&](std::vector<int64_t> own) {
    if (options.ignore_nothing) return std::vector<int64_t>{};
    if (options.ignore_value && !contains(own, *options.ignore_value)) {
      own.push_back(*options.ignore_value);
    }
    return own;
  };
  const bool asked = options.convention != C::kAuto;

  if (options.convention == C::kVoc || (!asked && voc_layout)) {
    r.convention = "voc";
    r.reason = asked ? "asked (--mask-values voc)" : "VOC layout";
    r.ignored_values = ignores({255, -1});
    if (table) {
      classes = *table;
    } else {  // VOC's ids without its names: as many classes as the largest id says
      const auto labelled = without(all_counts, r.ignored_values);
      check_implied_classes(labelled, options, "voc", where);
      const int64_t top = labelled.empty() ? 0 : labelled.rbegin()->first;
      classes = ClassTable::numbered(std::max<int64_t>(top + 1, 2));
      classes.classes[0].name = "background";
    }
    classes.ignore_index = 255;
    r.ignore_index = 255;
    return r;
  }
  if (table && (options.convention == C::kAuto || options.convention == C::kIndex)) {
    r.convention = "class table";
    r.reason = "a class table names " + std::to_string(table->size()) + " classes";
    r.ignored_values = ignores({table->ignore_index});
    classes = *table;
    place_ignore_index(r, classes);
    return r;
  }
  r.ignored_values = ignores({});
  const auto counts = without(all_counts, r.ignored_values);
  if (counts.empty()) {
    throw std::runtime_error(where + ": the masks hold no labelled pixel");
  }
  const int64_t lo = counts.begin()->first, hi = counts.rbegin()->first;
  const auto total = total_of(counts);

  if (options.convention == C::kBinary) {
    if (colour) throw std::runtime_error(where + ": colour masks cannot be read as binary");
    r.convention = "binary";
    r.reason = "asked (--mask-values binary)";
    r.values = {lo, hi};
    r.threshold = lo + (hi - lo) / 2;
    classes = ClassTable::from_names({"background", "foreground"});
    return r;
  }
  if (options.convention == C::kIndex) {
    if (colour) throw std::runtime_error(where + ": colour masks cannot be read as class ids");
    if (lo < 0) {
      throw std::runtime_error(where + ": value " + std::to_string(lo) +
                               " cannot be a class id (use --ignore-value " + std::to_string(lo) +
                               ")");
    }
    check_implied_classes(counts, options, "index", where);
    r.convention = "index";
    r.reason = "asked (--mask-values index)";
    classes = ClassTable::numbered(std::max<int64_t>(hi + 1, 2));
    classes.classes[0].name = "background";
    place_ignore_index(r, classes);
    return r;
  }

  // Auto, no class table. Binary: both ends present and, with the values
  // near them (re-encoded or anti-aliased edges), nearly every pixel.
  if (!colour && lo == 0 && (hi == 1 || hi == 255 || hi == 65535)) {
    int64_t near_ends = 0;
    for (const auto& [v, c] : counts) {
      if (v <= hi / 10 || v >= hi - hi / 10) near_ends += c;
    }
    if (static_cast<double>(near_ends) >= kBinaryShare * static_cast<double>(total)) {
      r.convention = "binary";
      r.values = {0, hi};
      r.threshold = hi / 2;
      r.reason = "0 and " + std::to_string(hi) + " hold " +
                 percent(counts.at(0) + counts.at(hi), total) + " of the pixels";
      if (counts.size() > 2) {
        r.reason += "; " + std::to_string(counts.size() - 2) +
                    " other values (re-encoded edges) go to the nearer one";
      }
      classes = ClassTable::from_names({"background", "foreground"});
      return r;
    }
  }
  const auto distinct = static_cast<int64_t>(counts.size());
  if (distinct > options.max_auto_classes) {
    throw std::runtime_error(
        where + ": the masks hold " + std::to_string(distinct) + " distinct " +
        (colour ? "colours" : "values") + ", more than the " +
        std::to_string(options.max_auto_classes) +
        " classes read without a class table: they look like images, not labels (give "
        "classes.json, or --mask-values index if the values are class ids)");
  }
  if (!colour && lo >= 0 && hi + 1 == distinct) {
    r.convention = "index";
    r.reason = "values 0.." + std::to_string(hi) + " all present";
    classes = ClassTable::numbered(std::max<int64_t>(hi + 1, 2));
    classes.classes[0].name = "background";
    place_ignore_index(r, classes);
    return r;
  }
  r.convention = colour ? "colour" : "sparse";
  for (const auto& [v, c] : counts) r.values.push_back(v);
  r.reason = std::to_string(distinct) + (colour ? " colours" : " values") + ", mapped in " +
             (colour ? "code" : "value") + " order to classes 0.." + std::to_string(distinct - 1);
  classes = named_by_value(r.values, colour);
  place_ignore_index(r, classes);
  return r;
}

void check_learnable(const MaskReading& reading, const ValueCounts& counts,
                     const ClassTable& classes, const std::string& where) {
  const auto pixels = reading.class_pixels(counts, classes.size());
  std::vector<int64_t> present;
  for (size_t c = 0; c < pixels.size(); ++c) {
    if (pixels[c] > 0) present.push_back(static_cast<int64_t>(c));
  }
  if (present.size() >= 2) return;
  int64_t ignored = 0;
  std::string ignored_values;
  for (const auto& [v, c] : counts) {
    if (reading.class_of(v) == reading.ignore_index) {
      ignored += c;
      ignored_values += (ignored_values.empty() ? "" : ", ") + value_text(v, reading.colour);
    }
  }
  const auto total = total_of(counts);
  std::string msg = where + ": nothing to learn: ";
  if (present.empty()) {
    msg += "no pixel of the masks is labelled";
  } else {
    msg += "every labelled pixel is class '" +
           classes.classes[static_cast<size_t>(present[0])].name + "'";
  }
  if (ignored > 0) {
    msg += "; value " + ignored_values + " (" + percent(ignored, total) + " of the pixels) is " +
           "ignored under the '" + reading.convention +
           "' convention. If it marks a class, read the masks with --mask-values binary or "
           "--ignore-value none";
  }
  throw std::runtime_error(msg);
}

std::string describe_mask_reading(const MaskReading& reading, const ValueCounts& counts,
                                  const ClassTable& classes, size_t max_rows) {
  const auto total = total_of(counts);
  // Largest shares first: what a reader checks is where the pixels are.
  std::vector<std::pair<int64_t, int64_t>> rows(counts.begin(), counts.end());
  std::stable_sort(rows.begin(), rows.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  std::string head = "masks hold ";
  for (size_t i = 0; i < rows.size() && i < 4; ++i) {
    head += (i == 0 ? "" : (i + 1 == rows.size() ? " and " : ", ")) +
            value_text(rows[i].first, reading.colour) + " (" + percent(rows[i].second, total) + ")";
  }
  if (rows.size() > 4) head += " and " + std::to_string(rows.size() - 4) + " more values";
  head += ": read as " + reading.convention + " (" + reading.reason + "), " +
          std::to_string(classes.size()) + " classes";
  std::string out = head + "\n";
  char line[160];
  std::snprintf(line, sizeof line, "  %-18s %14s %10s  %s\n", "value", "pixels", "share", "class");
  out += line;
  for (size_t i = 0; i < rows.size() && i < max_rows; ++i) {
    const auto [v, c] = rows[i];
    const auto id = reading.class_of(v);
    std::string cls;
    if (!id) {
      cls = "(no class)";
    } else if (*id == reading.ignore_index) {
      cls = "ignored";
    } else if (*id >= 0 && *id < classes.size()) {
      cls = std::to_string(*id) + " " + classes.classes[static_cast<size_t>(*id)].name;
    } else {
      cls = std::to_string(*id) + " (outside the class list)";
    }
    std::snprintf(line, sizeof line, "  %-18s %14lld %10s  %s\n",
                  value_text(v, reading.colour).c_str(), static_cast<long long>(c),
                  percent(c, total).c_str(), cls.c_str());
    out += line;
  }
  if (rows.size() > max_rows) {
    out += "  ... " + std::to_string(rows.size() - max_rows) + " more values\n";
  }
  return out;
}

}  // namespace revup
