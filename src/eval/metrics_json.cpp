// SPDX-License-Identifier: MIT
// Copyright (c) detlab contributors
// metrics.json: the versioned file every run writes and `detlab compare` reads (keys: src/README.md).
#include <cmath>
#include <limits>

#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "core/error.h"
#include "eval/metrics.h"

namespace detlab {

namespace {

using json = nlohmann::ordered_json;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

json number(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

json voc_json(const std::optional<VocMetrics>& v, const std::vector<std::string>& names) {
  if (!v) return nullptr;
  json per_class = json::object();
  for (size_t k = 0; k < v->per_class.size(); ++k)
    per_class[k < names.size() ? names[k] : std::to_string(k)] = number(v->per_class[k]);
  return json{{"mAP", number(v->map)}, {"per_class", per_class}};
}

struct Reader {
  std::string file;

  const json& at(const json& obj, const std::string& key, const std::string& path) const {
    auto it = obj.find(key);
    if (it == obj.end()) throw InputError(file, path + key, "missing");
    return *it;
  }
  double num(const json& v, const std::string& path) const {
    if (v.is_null()) return kNaN;
    if (!v.is_number()) throw InputError(file, path, "expected a number or null, got " + v.dump());
    return v.get<double>();
  }
  std::optional<VocMetrics> voc(const json& v, const std::string& path, std::vector<std::string>& names) const {
    if (v.is_null()) return std::nullopt;
    if (!v.is_object()) throw InputError(file, path, "expected an object or null");
    VocMetrics m;
    m.map = num(at(v, "mAP", path + "."), path + ".mAP");
    const json& pc = at(v, "per_class", path + ".");
    if (!pc.is_object()) throw InputError(file, path + ".per_class", "expected an object");
    std::vector<std::string> here;
    for (auto it = pc.begin(); it != pc.end(); ++it) {
      here.push_back(it.key());
      m.per_class.push_back(num(it.value(), path + ".per_class." + it.key()));
    }
    if (names.empty()) names = here;
    else if (names != here) throw InputError(file, path + ".per_class", "classes differ from the other section");
    return m;
  }
};

}  // namespace

void write_metrics_json(const std::filesystem::path& file, const Metrics& m) {
  json j;
  j["version"] = kMetricsVersion;
  if (m.coco) {
    json coco = json::object();
    for (size_t i = 0; i < 12; ++i) coco[coco_stat_names()[i]] = number((*m.coco)[i]);
    j["coco"] = coco;
  } else {
    j["coco"] = nullptr;
  }
  j["voc07"] = voc_json(m.voc07, m.class_names);
  j["voc12"] = voc_json(m.voc12, m.class_names);
  json stages = json::object();
  for (const auto& [name, ms] : m.stage_ms) stages[name] = number(ms);
  j["timing"] = json{{"ms_per_image", number(m.ms_per_image)}, {"stages", stages}};
  if (!m.extra_json.empty()) {
    json extra;
    try {
      extra = json::parse(m.extra_json);
    } catch (const json::parse_error& e) {
      throw InputError(file.string(), "extra", std::string("invalid JSON: ") + e.what());
    }
    if (!extra.is_object()) throw InputError(file.string(), "extra", "must be a JSON object");
    j["extra"] = extra;
  }
  write_file_atomic(file, j.dump(2) + "\n");
}

Metrics read_metrics_json(const std::filesystem::path& file) {
  Reader r{file.string()};
  json j;
  try {
    j = json::parse(read_file(file));
  } catch (const json::parse_error& e) {
    throw InputError(r.file, "", std::string("invalid JSON: ") + e.what());
  }
  if (!j.is_object()) throw InputError(r.file, "", "expected a JSON object");
  const json& version = r.at(j, "version", "");
  if (!version.is_number_integer() || version.get<int>() != kMetricsVersion)
    throw InputError(r.file, "version", "unsupported metrics.json version " + version.dump() + " (this build reads " +
                                            std::to_string(kMetricsVersion) + ")");
  Metrics m;
  const json& coco = r.at(j, "coco", "");
  if (!coco.is_null()) {
    if (!coco.is_object()) throw InputError(r.file, "coco", "expected an object or null");
    std::array<double, 12> stats{};
    for (size_t i = 0; i < 12; ++i) {
      const std::string key = coco_stat_names()[i];
      stats[i] = r.num(r.at(coco, key, "coco."), "coco." + key);
    }
    m.coco = stats;
  }
  m.voc07 = r.voc(r.at(j, "voc07", ""), "voc07", m.class_names);
  m.voc12 = r.voc(r.at(j, "voc12", ""), "voc12", m.class_names);
  const json& timing = r.at(j, "timing", "");
  if (!timing.is_object()) throw InputError(r.file, "timing", "expected an object");
  m.ms_per_image = r.num(r.at(timing, "ms_per_image", "timing."), "timing.ms_per_image");
  const json& stages = r.at(timing, "stages", "timing.");
  if (!stages.is_object()) throw InputError(r.file, "timing.stages", "expected an object");
  for (auto it = stages.begin(); it != stages.end(); ++it)
    m.stage_ms[it.key()] = r.num(it.value(), "timing.stages." + it.key());
  auto extra = j.find("extra");
  if (extra != j.end() && !extra->is_null()) m.extra_json = extra->dump();
  return m;
}

}  // namespace detlab
