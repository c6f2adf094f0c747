// pth_io.cpp: torch.save zip -> StateDict (see pth_io.hpp). The archive holds <prefix>/data.pkl (the
// pickled dict) and one entry <prefix>/data/<key> per storage, raw little-endian elements.
#include "core/pth_io.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>

#include "core/file_io.hpp"
#include "core/pickle_reader.hpp"
#include "core/zip_reader.hpp"

namespace quantlab {
namespace {


std::string contiguous_hint(const Shape& size, const Shape& stride) {
    return "size " + shape_str(size) + " with stride " + shape_str(stride) +
           " is not contiguous (save a contiguous copy: {k: v.contiguous() for k, v in sd.items()})";
}

}  // namespace

Result<StateDict> read_pth(const std::string& path) {
    auto bytes = read_file_bytes(path, "pth");
    if (!bytes.ok()) return bytes.status;
    return read_pth_bytes(bytes.value.data(), bytes.value.size(), path);
}

Result<StateDict> read_pth_bytes(const uint8_t* data, size_t size, const std::string& name) {
    const std::string who = "pth: " + name + ": ";
    auto zip = ZipReader::open(data, size, name);
    if (!zip.ok()) return zip.status;
    const ZipReader& z = zip.value;

    // torch.save names every entry <archive name>/...; the pickle is <prefix>data.pkl at depth one.
    std::string prefix;
    const ZipEntry* pkl = nullptr;
    for (const auto& e : z.entries()) {
        const std::string tail = "data.pkl";
        if (e.name.size() < tail.size() || e.name.compare(e.name.size() - tail.size(), tail.size(), tail) != 0) continue;
        const std::string pre = e.name.substr(0, e.name.size() - tail.size());
        const size_t slash = pre.find('/');
        if (pre.empty() || (slash == pre.size() - 1)) {
            prefix = pre;
            pkl = &e;
            break;
        }
    }
    if (!pkl)
        return Status::error(who + "no <name>/data.pkl entry among the " + std::to_string(z.entries().size()) +
                             " zip entries (a zip, but not one written by torch.save)");
    if (const ZipEntry* bo = z.find(prefix + "byteorder")) {
        auto b = z.read(*bo);
        if (!b.ok()) return b.status;
        const std::string order(reinterpret_cast<const char*>(b.value.data), b.value.size);
        if (order != "little")
            return Status::error(who + "byteorder is '" + order + "', only 'little' is supported "
                                 "(re-save the file on a little-endian machine)");
    }
    auto pkl_bytes = z.read(*pkl);
    if (!pkl_bytes.ok()) return pkl_bytes.status;
    auto graph_r = read_pickle(pkl_bytes.value.data, pkl_bytes.value.size, name + ": " + pkl->name);
    if (!graph_r.ok()) return graph_r.status;
    const PickleGraph& g = graph_r.value;

    // The state_dict itself, or a checkpoint dict that holds one (one level only, no recursion).
    size_t dict = g.root;
    if (g.at(dict).kind != PickleKind::Dict)
        return Status::error(who + "the pickled object is a " + std::string(pickle_kind_name(g.at(dict).kind)) +
                             (g.at(dict).kind == PickleKind::Object ? " (" + g.at(dict).text + ")" : std::string()) +
                             ", expected a state_dict (save model.state_dict(), not the model)");
    {
        const auto& items = g.at(dict).items;
        bool has_tensor = false;
        size_t nested = size_t(-1);
        for (size_t i = 0; i + 1 < items.size(); i += 2) {
            const PickleValue& k = g.at(items[i]);
            const PickleValue& v = g.at(items[i + 1]);
            if (v.kind == PickleKind::Tensor) has_tensor = true;
            if (k.kind == PickleKind::String && v.kind == PickleKind::Dict && nested == size_t(-1) &&
                (k.text == "state_dict" || k.text == "model_state_dict" || k.text == "model"))
                nested = items[i + 1];
        }
        if (!has_tensor && nested != size_t(-1)) dict = nested;
    }

    StateDict sd;
    const auto& items = g.at(dict).items;
    for (size_t i = 0; i + 1 < items.size(); i += 2) {
        const PickleValue& k = g.at(items[i]);
        const PickleValue& v = g.at(items[i + 1]);
        if (k.kind != PickleKind::String)
            return Status::error(who + "state_dict key " + std::to_string(i / 2) + " is a " + pickle_kind_name(k.kind) +
                                 ", expected a string");
        const std::string& tname = k.text;
        const std::string twho = who + "tensor '" + tname + "': ";
        if (v.kind != PickleKind::Tensor)
            return Status::error(twho + "value is a " + std::string(pickle_kind_name(v.kind)) +
                                 (v.kind == PickleKind::Object ? " (" + v.text + ")" : std::string()) +
                                 ", expected a tensor (a state_dict holds only tensors)");
        const PickleValue& st = g.at(v.items[0]);
        const size_t item = dtype_item_size(st.text);

        int64_t n = 1;
        for (int64_t d : v.size) {
            if (d < 0) return Status::error(twho + "negative dimension in size " + shape_str(v.size));
            if (d > 0 && n > std::numeric_limits<int64_t>::max() / d)
                return Status::error(twho + "size " + shape_str(v.size) + " overflows");
            n *= d;
        }
        if (n > 1) {  // dims of extent 1 may carry any stride; a 0- or 1-element tensor is always contiguous
            int64_t expect = 1;
            for (size_t d = v.size.size(); d-- > 0;) {
                if (v.size[d] != 1 && v.stride[d] != expect)
                    return Status::error(twho + contiguous_hint(v.size, v.stride));
                expect *= v.size[d];
            }
        }
        const std::string entry_name = prefix + "data/" + st.key;
        const ZipEntry* ent = z.find(entry_name);
        if (!ent)
            return Status::error(twho + "storage entry '" + entry_name + "' is missing from the archive (truncated or "
                                 "re-packed file)");
        auto bytes = z.read(*ent);
        if (!bytes.ok()) return bytes.status;
        if (uint64_t(st.integer) > bytes.value.size / item)
            return Status::error(twho + "storage '" + entry_name + "' claims " + std::to_string(st.integer) + " " +
                                 st.text + " elements (" + std::to_string(item) + " bytes each) but the entry holds " +
                                 std::to_string(bytes.value.size) + " bytes (corrupt file)");
        if (v.integer < 0 || v.integer > st.integer || n > st.integer - v.integer)
            return Status::error(twho + "storage offset " + std::to_string(v.integer) + " + " + std::to_string(n) +
                                 " elements exceeds the storage's " + std::to_string(st.integer) +
                                 " elements (corrupt file)");
        Tensor t;
        t.shape = v.size;
        t.data.resize(size_t(n));
        decode_elements(st.text, bytes.value.data + size_t(v.integer) * item, size_t(n), t.data.data());
        if (dtype_is_float(st.text)) {
            const int64_t bad = first_non_finite(t);
            if (bad >= 0)
                return Status::error(twho + "element " + std::to_string(bad) + " is " +
                                     (std::isnan(t.data[size_t(bad)]) ? "NaN" : "Inf") +
                                     ", expected finite weights (the training run diverged; use an earlier checkpoint)");
        }
        sd.set(tname, std::move(t), st.text);  // a repeated key: the later value wins, first position kept
    }
    if (sd.names.empty())
        return Status::error(who + "the state_dict holds no tensors (expected conv1.weight, ...)");
    return sd;
}

}  // namespace quantlab
