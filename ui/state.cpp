// state.cpp: UiState helpers and the state string codec (see state.hpp for the format).
#include "ui/state.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cctype>
#include <cstdlib>

#include "ui/lessons.hpp"

namespace quantlab::ui {

namespace {

const char* const kPanelKeys[kNumPanels] = {"quantizer", "network", "eval", "train"};
const char* const kLabSourceKeys[] = {"syn", "weight", "act"};

bool valid_bits(int b) { return (b >= kMinBits && b <= kMaxBits) || b == kFloatBits; }

// Shortest decimal text that reads back to the same double.
std::string num(double v) {
    char buf[40];
    for (int prec = 6; prec <= 17; ++prec) {
        std::snprintf(buf, sizeof buf, "%.*g", prec, v);
        if (std::strtod(buf, nullptr) == v) break;
    }
    return buf;
}

std::string num_f(float v) {
    char buf[40];
    for (int prec = 6; prec <= 9; ++prec) {
        std::snprintf(buf, sizeof buf, "%.*g", prec, double(v));
        if (std::strtof(buf, nullptr) == v) break;
    }
    return buf;
}

bool parse_double(const std::string& s, double* out) {
    if (s.empty()) return false;
    char* end = nullptr;
    const double v = std::strtod(s.c_str(), &end);
    if (end != s.c_str() + s.size() || !std::isfinite(v)) return false;
    *out = v;
    return true;
}

bool parse_int(const std::string& s, int* out) {
    double d;
    if (!parse_double(s, &d) || d != std::floor(d) || std::fabs(d) > 1e9) return false;
    *out = int(d);
    return true;
}

bool parse_bool(const std::string& s, bool* out) {
    if (s == "1" || s == "true" || s == "on") return *out = true, true;
    if (s == "0" || s == "false" || s == "off") return *out = false, true;
    return false;
}

bool parse_bits_value(const std::string& s, int* out) {
    if (s == "fp" || s == "float") return *out = kFloatBits, true;
    int b;
    if (!parse_int(s, &b) || !valid_bits(b)) return false;
    *out = b;
    return true;
}

bool parse_bits_list(const std::string& s, std::vector<int>* out) {
    std::vector<int> v;
    size_t start = 0;
    while (start <= s.size()) {
        size_t comma = s.find(',', start);
        if (comma == std::string::npos) comma = s.size();
        int b;
        if (!parse_bits_value(s.substr(start, comma - start), &b)) return false;
        v.push_back(b);
        if (v.size() > 64) return false;
        start = comma + 1;
    }
    if (v.empty()) return false;
    *out = v;
    return true;
}

std::string bits_list(const std::vector<int>& v) {
    std::string s;
    for (size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + std::to_string(v[i]);
    return s;
}

bool all_equal(const std::vector<int>& v) {
    return std::all_of(v.begin(), v.end(), [&](int b) { return b == v.front(); });
}

std::string url_encode(const std::string& s) {
    static const char* hex = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : s) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
            out += char(c);
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    return out;
}

bool url_decode(const std::string& s, std::string* out) {
    std::string r;
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '+') {
            r += ' ';
        } else if (s[i] == '%') {
            if (i + 2 >= s.size()) return false;
            auto hv = [](char c) -> int {
                if (c >= '0' && c <= '9') return c - '0';
                if (c >= 'a' && c <= 'f') return c - 'a' + 10;
                if (c >= 'A' && c <= 'F') return c - 'A' + 10;
                return -1;
            };
            const int a = hv(s[i + 1]), b = hv(s[i + 2]);
            if (a < 0 || b < 0) return false;
            r += char(a * 16 + b);
            i += 2;
        } else {
            r += s[i];
        }
    }
    *out = r;
    return true;
}

}  // namespace

const char* panel_key(Panel p) { return kPanelKeys[int(p)]; }

bool UiState::operator==(const UiState& o) const {
    return panel == o.panel && lang == o.lang && font_scale == o.font_scale && high_contrast == o.high_contrast &&
           weights == o.weights && lab_source == o.lab_source && lab_layer == o.lab_layer && lab_spec == o.lab_spec &&
           lab_ste == o.lab_ste && lab_channel == o.lab_channel && weight_bits == o.weight_bits && act_bits == o.act_bits &&
           quant == o.quant && act_mode == o.act_mode && backend == o.backend && net_layer == o.net_layer &&
           gallery_flipped_only == o.gallery_flipped_only && gallery_page == o.gallery_page &&
           panel_view == o.panel_view && lesson == o.lesson;
}

int next_bits(int bits, int delta) {
    // The ladder 1, 2, ..., 16, 32 (float).
    int i = bits == kFloatBits ? kMaxBits : std::clamp(bits, kMinBits, kMaxBits) - 1;
    i = std::clamp(i + delta, 0, kMaxBits);
    return i == kMaxBits ? kFloatBits : i + 1;
}

int uniform_bits(const UiState& s) {
    if (s.weight_bits.empty() || s.act_bits.empty()) return 0;
    const int b = s.weight_bits.front();
    for (int x : s.weight_bits)
        if (x != b) return 0;
    for (int x : s.act_bits)
        if (x != b) return 0;
    return b;
}

std::string bits_summary(const UiState& s) {
    auto one = [](int b) { return b == kFloatBits ? std::string("fp32") : std::to_string(b); };
    if (int b = uniform_bits(s)) return one(b);
    if (!s.weight_bits.empty() && !s.act_bits.empty() && all_equal(s.weight_bits) && all_equal(s.act_bits))
        return "W" + one(s.weight_bits.front()) + "A" + one(s.act_bits.front());
    return "mixed";
}

void fit_layers(UiState& s, int n) {
    n = std::max(n, 1);
    for (std::vector<int>* v : {&s.weight_bits, &s.act_bits}) {
        const int last = v->empty() ? 8 : v->back();
        v->resize(size_t(n), last);
    }
    s.lab_layer = std::clamp(s.lab_layer, 0, n - 1);
    s.net_layer = std::clamp(s.net_layer, 0, n - 1);
}

void set_network_rule(UiState& s, const QuantSpec& rule) {
    s.quant = rule;
    s.quant.bits = QuantSpec().bits;  // unused, and kept at its default so that equal settings compare equal
}

QuantSpec layer_weight_spec(const UiState& s, int q) {
    QuantSpec w = s.quant;
    w.bits = s.weight_bits.empty() ? kFloatBits : s.weight_bits[size_t(std::min<int>(q, int(s.weight_bits.size()) - 1))];
    return w;
}

QuantSpec layer_act_spec(const UiState& s, int q) {
    QuantSpec a = layer_weight_spec(s, q);
    a.per_channel = false;
    a.bits = s.act_bits.empty() ? kFloatBits : s.act_bits[size_t(std::min<int>(q, int(s.act_bits.size()) - 1))];
    return a;
}

QuantConfig network_config(const UiState& s, const NetworkDesc& net) {
    QuantConfig c = make_config(net, kFloatBits, kFloatBits, s.act_mode);
    for (size_t q = 0; q < c.layers.size(); ++q) {
        c.layers[q].weight = layer_weight_spec(s, int(q));
        c.layers[q].act = layer_act_spec(s, int(q));
    }
    return c;
}

std::string encode_state(const UiState& s) {
    const UiState d;
    std::vector<std::pair<std::string, std::string>> kv;
    auto add = [&](const char* key, const std::string& value) { kv.emplace_back(key, value); };
    if (s.lesson != d.lesson) add("lesson", std::to_string(s.lesson));
    if (s.panel != d.panel) add("panel", panel_key(s.panel));
    if (s.lang != d.lang) add("lang", s.lang == Lang::kJa ? "ja" : "en");
    if (s.font_scale != d.font_scale) add("fs", num_f(s.font_scale));
    if (s.high_contrast != d.high_contrast) add("hc", s.high_contrast ? "1" : "0");
    if (s.weights != d.weights) add("w", url_encode(s.weights));
    if (s.weight_bits != d.weight_bits) add("wb", all_equal(s.weight_bits) ? std::to_string(s.weight_bits.front()) : bits_list(s.weight_bits));
    if (s.act_bits != d.act_bits) add("ab", all_equal(s.act_bits) ? std::to_string(s.act_bits.front()) : bits_list(s.act_bits));
    if (s.quant.rule != d.quant.rule) add("rule", range_rule_name(s.quant.rule));
    if (s.quant.symmetric != d.quant.symmetric) add("sym", s.quant.symmetric ? "1" : "0");
    if (s.quant.per_channel != d.quant.per_channel) add("pc", s.quant.per_channel ? "1" : "0");
    if (s.quant.codes != d.quant.codes) add("codes", symmetric_codes_name(s.quant.codes));
    if (s.quant.k != d.quant.k) add("k", num(s.quant.k));
    if (s.quant.percentile != d.quant.percentile) add("pct", num(s.quant.percentile));
    if (s.act_mode != d.act_mode) add("mode", act_mode_name(s.act_mode));
    if (s.backend != d.backend) add("be", backend_name(s.backend));
    if (s.lab_source != d.lab_source) add("lab", kLabSourceKeys[int(s.lab_source)]);
    if (s.lab_layer != d.lab_layer) add("ll", std::to_string(s.lab_layer));
    if (s.lab_spec.bits != d.lab_spec.bits) add("lb", std::to_string(s.lab_spec.bits));
    if (s.lab_spec.rule != d.lab_spec.rule) add("lr", range_rule_name(s.lab_spec.rule));
    if (s.lab_spec.symmetric != d.lab_spec.symmetric) add("ls", s.lab_spec.symmetric ? "1" : "0");
    if (s.lab_spec.per_channel != d.lab_spec.per_channel) add("lpc", s.lab_spec.per_channel ? "1" : "0");
    if (s.lab_spec.codes != d.lab_spec.codes) add("lcodes", symmetric_codes_name(s.lab_spec.codes));
    if (s.lab_spec.k != d.lab_spec.k) add("lk", num(s.lab_spec.k));
    if (s.lab_spec.percentile != d.lab_spec.percentile) add("lp", num(s.lab_spec.percentile));
    if (s.lab_ste != d.lab_ste) add("ste", ste_rule_name(s.lab_ste));
    if (s.lab_channel != d.lab_channel) add("lch", std::to_string(s.lab_channel));
    if (s.net_layer != d.net_layer) add("nl", std::to_string(s.net_layer));
    if (s.gallery_flipped_only != d.gallery_flipped_only) add("flip", s.gallery_flipped_only ? "1" : "0");
    if (s.gallery_page != d.gallery_page) add("page", std::to_string(s.gallery_page));
    if (s.panel_view != d.panel_view) add("view", std::to_string(s.panel_view));
    std::string out;
    for (const auto& [k, v] : kv) out += (out.empty() ? "" : "&") + k + "=" + v;
    return out;
}

Status decode_state(const std::string& text, UiState* s) {
    std::string bad;
    auto fail = [&](const std::string& key, const std::string& value, const char* expected) {
        bad += (bad.empty() ? "" : "; ") + key + "='" + value + "' (expected " + expected + ")";
    };
    size_t start = (!text.empty() && (text[0] == '?' || text[0] == '#')) ? 1 : 0;
    while (start < text.size()) {
        size_t amp = text.find('&', start);
        if (amp == std::string::npos) amp = text.size();
        const std::string item = text.substr(start, amp - start);
        start = amp + 1;
        if (item.empty()) continue;
        const size_t eq = item.find('=');
        const std::string key = item.substr(0, eq);
        std::string value;
        if (!url_decode(eq == std::string::npos ? std::string() : item.substr(eq + 1), &value)) {
            fail(key, item.substr(eq + 1), "valid %-encoding");
            continue;
        }
        bool bv;
        int iv;
        double dv;
        if (key == "panel") {
            auto it = std::find_if(std::begin(kPanelKeys), std::end(kPanelKeys), [&](const char* p) { return value == p; });
            if (it == std::end(kPanelKeys)) fail(key, value, "quantizer, network, eval or train");
            else s->panel = Panel(it - std::begin(kPanelKeys));
        } else if (key == "lang") {
            if (value == "en") s->lang = Lang::kEn;
            else if (value == "ja") s->lang = Lang::kJa;
            else fail(key, value, "en or ja");
        } else if (key == "fs") {
            if (parse_double(value, &dv) && dv >= 1.0 && dv <= 3.0) s->font_scale = float(dv);
            else fail(key, value, "a font scale in [1, 3]");
        } else if (key == "hc" || key == "sym" || key == "pc" || key == "ls" || key == "lpc" || key == "flip") {
            if (!parse_bool(value, &bv)) {
                fail(key, value, "0 or 1");
                continue;
            }
            if (key == "hc") s->high_contrast = bv;
            if (key == "sym") s->quant.symmetric = bv;
            if (key == "pc") s->quant.per_channel = bv;
            if (key == "ls") s->lab_spec.symmetric = bv;
            if (key == "lpc") s->lab_spec.per_channel = bv;
            if (key == "flip") s->gallery_flipped_only = bv;
        } else if (key == "w") {
            if (value.empty() || value.size() > 200) fail(key, value, "a weights file name");
            else s->weights = value;
        } else if (key == "wb" || key == "ab") {
            std::vector<int> v;
            if (!parse_bits_list(value, &v)) fail(key, value, "bit widths 1..16 or 32, comma-separated");
            else (key == "wb" ? s->weight_bits : s->act_bits) = v;
        } else if (key == "rule" || key == "lr") {
            Result<RangeRule> r = parse_range_rule(value);
            if (!r.ok()) fail(key, value, "maxabs, meanstd, minmax, percentile or mse");
            else (key == "rule" ? s->quant : s->lab_spec).rule = r.value;
        } else if (key == "k" || key == "lk") {
            if (parse_double(value, &dv) && dv > 0 && dv <= 100) (key == "k" ? s->quant : s->lab_spec).k = dv;
            else fail(key, value, "k in (0, 100]");
        } else if (key == "pct" || key == "lp") {
            if (parse_double(value, &dv) && dv > 50 && dv <= 100) (key == "pct" ? s->quant : s->lab_spec).percentile = dv;
            else fail(key, value, "a percentile in (50, 100]");
        } else if (key == "codes" || key == "lcodes") {
            Result<SymmetricCodes> c = parse_symmetric_codes(value);
            if (!c.ok()) fail(key, value, "narrow or full");
            else (key == "codes" ? s->quant : s->lab_spec).codes = c.value;
        } else if (key == "mode") {
            Result<ActMode> m = parse_act_mode(value);
            if (!m.ok()) fail(key, value, "dynamic or static");
            else s->act_mode = m.value;
        } else if (key == "be") {
            Result<Backend> b = parse_backend(value);
            if (!b.ok()) fail(key, value, "reference, fast or integer");
            else s->backend = b.value;
        } else if (key == "lab") {
            bool found = false;
            for (int i = 0; i < 3; ++i)
                if (value == kLabSourceKeys[i]) s->lab_source = LabSource(i), found = true;
            if (!found) fail(key, value, "syn, weight or act");
        } else if (key == "lb") {
            if (parse_int(value, &iv) && iv >= kMinBits && iv <= kMaxBits) s->lab_spec.bits = iv;
            else fail(key, value, "bits 1..16");
        } else if (key == "ste") {
            Result<SteRule> r = parse_ste_rule(value);
            if (!r.ok()) fail(key, value, "identity or clipped");
            else s->lab_ste = r.value;
        } else if (key == "ll" || key == "lch" || key == "nl" || key == "page") {
            if (!parse_int(value, &iv) || iv < 0 || iv > 1000000) {
                fail(key, value, "an index >= 0");
                continue;
            }
            if (key == "ll") s->lab_layer = iv;
            if (key == "lch") s->lab_channel = iv;
            if (key == "nl") s->net_layer = iv;
            if (key == "page") s->gallery_page = iv;
        } else if (key == "lesson") {
            const std::string steps = "a lesson step 1.." + std::to_string(kNumLessons) + ", or 0 for none";
            if (parse_int(value, &iv) && iv >= 0 && iv <= kNumLessons) s->lesson = iv;
            else fail(key, value, steps.c_str());
        }
        if (key == "view") {
            if (parse_int(value, &iv) && iv >= 0 && iv < 16) s->panel_view = iv;
            else fail(key, value, "a view index 0..15");
        }
        // Any other key: ignored (a newer page's link still opens).
    }
    if (!bad.empty()) return Status::error("state: bad value " + bad);
    return Status::success();
}

}  // namespace quantlab::ui
