// pickle_reader.cpp: a bounded, non-recursive unpickler for torch.save's state_dict subset
// (see pickle_reader.hpp). One loop over opcodes; values live in an arena and are named by index.
#include "core/pickle_reader.hpp"

#include <cstring>
#include <unordered_map>

namespace quantlab {
namespace {

constexpr size_t kMaxStack = size_t(1) << 20;
constexpr size_t kMaxValues = size_t(1) << 20;  // ~20 per tensor in a state_dict: room for 50k tensors
constexpr size_t kMaxMemo = size_t(1) << 20;
constexpr size_t kMaxGlobalName = 512;
constexpr size_t kMaxDims = 64;
// Fixed arena slots, shared by every None/False/True in the stream.
constexpr size_t kNoneIdx = 0, kFalseIdx = 1, kTrueIdx = 2;

std::string opcode_str(uint8_t op) {
    static const char* kHex = "0123456789abcdef";
    std::string s = "0x";
    s += kHex[op >> 4];
    s += kHex[op & 0xf];
    if (op >= 0x21 && op < 0x7f) s += std::string(" '") + char(op) + "'";
    return s;
}

class Unpickler {
public:
    Unpickler(const uint8_t* data, size_t size, const std::string& name)
        : p_(data), size_(size), who_("pickle: " + name + ": ") {}

    Result<PickleGraph> run();

private:
    const uint8_t* p_;
    size_t size_;
    size_t pos_ = 0;
    size_t op_pos_ = 0;
    uint8_t op_ = 0;
    std::string who_;
    PickleGraph g_;
    std::vector<size_t> stack_;
    std::vector<size_t> marks_;
    std::unordered_map<uint64_t, size_t> memo_;
    std::string err_;

    bool fail(const std::string& what) {
        if (err_.empty()) err_ = who_ + "opcode " + opcode_str(op_) + " at offset " + std::to_string(op_pos_) + ": " + what;
        return false;
    }
    bool need(size_t n) {
        if (size_ - pos_ < n)
            return fail("needs " + std::to_string(n) + " more bytes but only " + std::to_string(size_ - pos_) +
                        " remain (truncated pickle)");
        return true;
    }
    uint64_t le(size_t n) {  // caller checked need(n)
        uint64_t v = 0;
        for (size_t i = 0; i < n; ++i) v |= uint64_t(p_[pos_ + i]) << (8 * i);
        pos_ += n;
        return v;
    }
    bool new_value(PickleValue v, size_t* idx) {
        if (g_.values.size() >= kMaxValues)
            return fail("more than " + std::to_string(kMaxValues) + " values (not a state_dict, or a hostile file)");
        *idx = g_.values.size();
        g_.values.push_back(std::move(v));
        return true;
    }
    bool push(size_t idx) {
        if (stack_.size() >= kMaxStack) return fail("stack deeper than " + std::to_string(kMaxStack) + " entries");
        stack_.push_back(idx);
        return true;
    }
    bool push_new(PickleValue v) {
        size_t idx;
        return new_value(std::move(v), &idx) && push(idx);
    }
    size_t floor() const { return marks_.empty() ? 0 : marks_.back(); }
    bool pop(size_t* idx) {
        if (stack_.size() <= floor()) return fail("pops from an empty stack (corrupt pickle)");
        *idx = stack_.back();
        stack_.pop_back();
        return true;
    }
    bool top(size_t* idx) {
        if (stack_.size() <= floor()) return fail("needs a value but the stack is empty (corrupt pickle)");
        *idx = stack_.back();
        return true;
    }
    // Moves everything above the innermost MARK into *items and removes the mark.
    bool pop_mark(std::vector<size_t>* items) {
        if (marks_.empty()) return fail("no MARK to pop to (corrupt pickle)");
        const size_t m = marks_.back();
        marks_.pop_back();
        items->assign(stack_.begin() + std::ptrdiff_t(m), stack_.end());
        stack_.resize(m);
        return true;
    }
    bool read_text(size_t len, PickleKind kind) {
        if (!need(len)) return false;
        PickleValue v;
        v.kind = kind;
        v.text.assign(reinterpret_cast<const char*>(p_ + pos_), len);
        pos_ += len;
        return push_new(std::move(v));
    }
    bool read_line(std::string* out) {
        const size_t start = pos_;
        while (pos_ < size_ && p_[pos_] != '\n') {
            if (pos_ - start >= kMaxGlobalName) return fail("GLOBAL name longer than " + std::to_string(kMaxGlobalName) + " bytes");
            ++pos_;
        }
        if (pos_ >= size_) return fail("GLOBAL name has no terminating newline (truncated pickle)");
        out->assign(reinterpret_cast<const char*>(p_ + start), pos_ - start);
        ++pos_;
        return true;
    }
    bool push_int(int64_t v) {
        PickleValue pv;
        pv.kind = PickleKind::Int;
        pv.integer = v;
        return push_new(std::move(pv));
    }
    bool memo_put(uint64_t key) {
        size_t idx;
        if (!top(&idx)) return false;
        if (memo_.size() >= kMaxMemo && memo_.find(key) == memo_.end())
            return fail("memo larger than " + std::to_string(kMaxMemo) + " entries");
        memo_[key] = idx;
        return true;
    }
    bool memo_get(uint64_t key) {
        auto it = memo_.find(key);
        if (it == memo_.end()) return fail("memo key " + std::to_string(key) + " was never stored (corrupt pickle)");
        return push(it->second);
    }
    bool add_to_dict(size_t dict, const std::vector<size_t>& kv) {
        if (g_.values[dict].kind != PickleKind::Dict)
            return fail(std::string("sets items on a ") + pickle_kind_name(g_.values[dict].kind) +
                        ", expected a dict");
        if (kv.size() % 2 != 0) return fail("odd number of items for SETITEMS (corrupt pickle)");
        auto& items = g_.values[dict].items;
        items.insert(items.end(), kv.begin(), kv.end());
        return true;
    }
    bool add_to_list(size_t list, const std::vector<size_t>& xs) {
        if (g_.values[list].kind != PickleKind::List)
            return fail(std::string("appends to a ") + pickle_kind_name(g_.values[list].kind) + ", expected a list");
        auto& items = g_.values[list].items;
        items.insert(items.end(), xs.begin(), xs.end());
        return true;
    }
    bool int_tuple(size_t idx, Shape* out, const char* what) {
        const PickleValue& v = g_.values[idx];
        if (v.kind != PickleKind::Tuple || v.items.size() > kMaxDims)
            return fail(std::string("_rebuild_tensor_v2: ") + what + " is a " + pickle_kind_name(v.kind) +
                        ", expected a tuple of at most 64 ints");
        out->clear();
        for (size_t it : v.items) {
            const PickleValue& e = g_.values[it];
            if (e.kind != PickleKind::Int) return fail(std::string("_rebuild_tensor_v2: ") + what + " holds a non-int");
            out->push_back(e.integer);
        }
        return true;
    }
    bool reduce(size_t callable, size_t args);
    bool persistent_load(size_t pid);
    bool step();
};

bool Unpickler::reduce(size_t callable, size_t args_idx) {
    const PickleValue& fn = g_.values[callable];
    const PickleValue& args = g_.values[args_idx];
    if (args.kind != PickleKind::Tuple)
        return fail(std::string("call arguments are a ") + pickle_kind_name(args.kind) + ", expected a tuple");
    const std::string name = fn.kind == PickleKind::Global ? fn.text : std::string("<") + pickle_kind_name(fn.kind) + ">";
    if (name == "collections.OrderedDict" && args.items.empty()) {
        PickleValue d;
        d.kind = PickleKind::Dict;
        return push_new(std::move(d));
    }
    if (name == "torch._utils._rebuild_parameter" || name == "torch._utils._rebuild_parameter_with_state") {
        if (args.items.empty()) return fail(name + " called without arguments");
        return push(args.items[0]);  // a Parameter is its data tensor here
    }
    if (name == "torch._utils._rebuild_tensor_v2" || name == "torch._utils._rebuild_tensor") {
        if (args.items.size() < 4)
            return fail(name + " has " + std::to_string(args.items.size()) + " arguments, expected at least 4 "
                        "(storage, storage_offset, size, stride)");
        const std::vector<size_t> a = args.items;  // copy: new_value below may reallocate g_.values
        if (g_.values[a[0]].kind != PickleKind::Storage)
            return fail(name + ": first argument is a " + pickle_kind_name(g_.values[a[0]].kind) + ", expected a storage");
        if (g_.values[a[1]].kind != PickleKind::Int)
            return fail(name + ": storage_offset is not an int");
        PickleValue t;
        t.kind = PickleKind::Tensor;
        t.items = {a[0]};
        t.integer = g_.values[a[1]].integer;
        if (!int_tuple(a[2], &t.size, "size") || !int_tuple(a[3], &t.stride, "stride")) return false;
        if (t.size.size() != t.stride.size())
            return fail(name + ": size has " + std::to_string(t.size.size()) + " dims but stride has " +
                        std::to_string(t.stride.size()));
        return push_new(std::move(t));
    }
    PickleValue o;
    o.kind = PickleKind::Object;
    o.text = name;
    o.items = args.items;
    return push_new(std::move(o));
}

bool Unpickler::persistent_load(size_t pid_idx) {
    const PickleValue& pid = g_.values[pid_idx];
    auto is = [&](size_t i, PickleKind k) { return g_.values[pid.items[i]].kind == k; };
    if (pid.kind != PickleKind::Tuple || pid.items.size() < 5 || !is(0, PickleKind::String) ||
        g_.values[pid.items[0]].text != "storage" || !is(1, PickleKind::Global) || !is(3, PickleKind::String) ||
        !is(4, PickleKind::Int) || !(is(2, PickleKind::String) || is(2, PickleKind::Int)))
        return fail("persistent id is not ('storage', torch.XxxStorage, key, location, numel) as torch.save writes");
    PickleValue s;
    s.kind = PickleKind::Storage;
    const std::string& type = g_.values[pid.items[1]].text;
    s.text = torch_storage_dtype(type);
    if (s.text.empty())
        return fail("storage type " + type + " is not supported (expected a float, double, half, bfloat16, "
                    "integer or bool storage)");
    const PickleValue& key = g_.values[pid.items[2]];
    s.key = key.kind == PickleKind::String ? key.text : std::to_string(key.integer);
    s.location = g_.values[pid.items[3]].text;
    s.integer = g_.values[pid.items[4]].integer;
    if (s.integer < 0) return fail("storage numel " + std::to_string(s.integer) + " is negative");
    return push_new(std::move(s));
}

bool Unpickler::step() {
    op_pos_ = pos_;
    op_ = p_[pos_++];
    size_t a = 0, b = 0;
    std::vector<size_t> items;
    switch (op_) {
        case 0x80:  // PROTO
            if (!need(1)) return false;
            if (p_[pos_] > 5) return fail("pickle protocol " + std::to_string(p_[pos_]) + ", expected 2..5");
            ++pos_;
            return true;
        case 0x95:  // FRAME (protocol 4): a length hint only
            if (!need(8)) return false;
            pos_ += 8;
            return true;
        case '(':  // MARK
            if (marks_.size() >= kMaxStack) return fail("too many nested MARKs");
            marks_.push_back(stack_.size());
            return true;
        case '.':  // STOP is handled by run()
            return true;
        case 'N': return push(kNoneIdx);
        case 0x88: return push(kTrueIdx);   // NEWTRUE
        case 0x89: return push(kFalseIdx);  // NEWFALSE
        case 'J':  // BININT: signed 32-bit
            if (!need(4)) return false;
            return push_int(int32_t(uint32_t(le(4))));
        case 'K':  // BININT1
            if (!need(1)) return false;
            return push_int(int64_t(le(1)));
        case 'M':  // BININT2
            if (!need(2)) return false;
            return push_int(int64_t(le(2)));
        case 0x8a:    // LONG1: n-byte little-endian two's complement
        case 0x8b: {  // LONG4
            const size_t len_bytes = op_ == 0x8a ? 1 : 4;
            if (!need(len_bytes)) return false;
            const uint64_t n = le(len_bytes);
            if (n > 8) return fail("integer of " + std::to_string(n) + " bytes does not fit in 64 bits");
            if (!need(size_t(n))) return false;
            uint64_t v = le(size_t(n));
            if (n > 0 && n < 8 && (v >> (8 * n - 1)) & 1) v |= ~uint64_t(0) << (8 * n);  // sign-extend
            return push_int(int64_t(v));
        }
        case 'G': {  // BINFLOAT: big-endian double
            if (!need(8)) return false;
            uint64_t bits = 0;
            for (int i = 0; i < 8; ++i) bits = (bits << 8) | p_[pos_ + size_t(i)];
            pos_ += 8;
            PickleValue v;
            v.kind = PickleKind::Float;
            std::memcpy(&v.real, &bits, 8);
            return push_new(std::move(v));
        }
        case 'X':  // BINUNICODE
            if (!need(4)) return false;
            return read_text(size_t(le(4)), PickleKind::String);
        case 0x8c:  // SHORT_BINUNICODE
            if (!need(1)) return false;
            return read_text(size_t(le(1)), PickleKind::String);
        case 0x8d:  // BINUNICODE8
            if (!need(8)) return false;
            {
                const uint64_t n = le(8);
                if (n > size_ - pos_)
                    return fail("string of " + std::to_string(n) + " bytes but only " + std::to_string(size_ - pos_) +
                                " remain (truncated pickle)");
                return read_text(size_t(n), PickleKind::String);
            }
        case 'U':  // SHORT_BINSTRING
            if (!need(1)) return false;
            return read_text(size_t(le(1)), PickleKind::String);
        case 'T': {  // BINSTRING: signed 32-bit length
            if (!need(4)) return false;
            const int32_t n = int32_t(uint32_t(le(4)));
            if (n < 0) return fail("negative string length " + std::to_string(n));
            return read_text(size_t(n), PickleKind::String);
        }
        case 'C':  // SHORT_BINBYTES
            if (!need(1)) return false;
            return read_text(size_t(le(1)), PickleKind::Bytes);
        case 'B':  // BINBYTES
            if (!need(4)) return false;
            return read_text(size_t(le(4)), PickleKind::Bytes);
        case 'c': {  // GLOBAL module\nname\n
            std::string module, name;
            if (!read_line(&module) || !read_line(&name)) return false;
            PickleValue v;
            v.kind = PickleKind::Global;
            v.text = module + "." + name;
            return push_new(std::move(v));
        }
        case 0x93: {  // STACK_GLOBAL
            if (!pop(&b) || !pop(&a)) return false;
            if (g_.values[a].kind != PickleKind::String || g_.values[b].kind != PickleKind::String)
                return fail("STACK_GLOBAL needs two strings");
            PickleValue v;
            v.kind = PickleKind::Global;
            v.text = g_.values[a].text + "." + g_.values[b].text;
            return push_new(std::move(v));
        }
        case '}': case ']': case ')': {  // EMPTY_DICT, EMPTY_LIST, EMPTY_TUPLE
            PickleValue v;
            v.kind = op_ == '}' ? PickleKind::Dict : op_ == ']' ? PickleKind::List : PickleKind::Tuple;
            return push_new(std::move(v));
        }
        case 0x85: case 0x86: case 0x87: {  // TUPLE1..3
            const size_t n = size_t(op_ - 0x84);
            if (stack_.size() - floor() < n) return fail("needs " + std::to_string(n) + " values on the stack");
            PickleValue v;
            v.kind = PickleKind::Tuple;
            v.items.assign(stack_.end() - std::ptrdiff_t(n), stack_.end());
            stack_.resize(stack_.size() - n);
            return push_new(std::move(v));
        }
        case 't': case 'l': case 'd': {  // TUPLE, LIST, DICT from the items above MARK
            if (!pop_mark(&items)) return false;
            if (op_ == 'd' && items.size() % 2 != 0) return fail("odd number of items for DICT");
            PickleValue v;
            v.kind = op_ == 't' ? PickleKind::Tuple : op_ == 'l' ? PickleKind::List : PickleKind::Dict;
            v.items = std::move(items);
            return push_new(std::move(v));
        }
        case 's': {  // SETITEM
            size_t dict = 0;
            if (!pop(&b) || !pop(&a) || !top(&dict)) return false;
            return add_to_dict(dict, {a, b});
        }
        case 'u':  // SETITEMS
            if (!pop_mark(&items) || !top(&a)) return false;
            return add_to_dict(a, items);
        case 'a':  // APPEND
            if (!pop(&b) || !top(&a)) return false;
            return add_to_list(a, {b});
        case 'e':  // APPENDS
            if (!pop_mark(&items) || !top(&a)) return false;
            return add_to_list(a, items);
        case '0':  // POP
            return pop(&a);
        case '1':  // POP_MARK
            return pop_mark(&items);
        case '2':  // DUP
            if (!top(&a)) return false;
            return push(a);
        case 'q':  // BINPUT
            if (!need(1)) return false;
            return memo_put(le(1));
        case 'r':  // LONG_BINPUT
            if (!need(4)) return false;
            return memo_put(le(4));
        case 0x94:  // MEMOIZE
            return memo_put(memo_.size());
        case 'h':  // BINGET
            if (!need(1)) return false;
            return memo_get(le(1));
        case 'j':  // LONG_BINGET
            if (!need(4)) return false;
            return memo_get(le(4));
        case 'R':  // REDUCE: callable(*args)
            if (!pop(&b) || !pop(&a)) return false;
            return reduce(a, b);
        case 0x81: {  // NEWOBJ: cls.__new__(cls, *args)
            if (!pop(&b) || !pop(&a)) return false;
            if (g_.values[b].kind != PickleKind::Tuple) return fail("NEWOBJ arguments are not a tuple");
            PickleValue o;
            o.kind = PickleKind::Object;
            o.text = g_.values[a].kind == PickleKind::Global ? g_.values[a].text : "<object>";
            o.items = g_.values[b].items;
            return push_new(std::move(o));
        }
        case 'b':  // BUILD: the state (e.g. OrderedDict's _metadata) carries nothing core needs
            if (!pop(&b) || !top(&a)) return false;
            return true;
        case 'Q':  // BINPERSID
            if (!pop(&a)) return false;
            return persistent_load(a);
        default:
            return fail("unknown or unsupported opcode (expected the protocol-2 subset torch.save writes for a "
                        "state_dict; was this file written by torch.save?)");
    }
}

Result<PickleGraph> Unpickler::run() {
    if (p_ == nullptr || size_ == 0) return Status::error(who_ + "empty pickle (expected a protocol-2 pickle)");
    g_.values.resize(3);
    g_.values[kNoneIdx].kind = PickleKind::None;
    g_.values[kFalseIdx].kind = PickleKind::Bool;
    g_.values[kTrueIdx].kind = PickleKind::Bool;
    g_.values[kTrueIdx].boolean = true;
    while (pos_ < size_) {
        if (!step()) return Status::error(err_);
        if (op_ == '.') {
            size_t root;
            if (!pop(&root)) return Status::error(err_);
            g_.root = root;
            return std::move(g_);
        }
    }
    return Status::error(who_ + "ended after " + std::to_string(size_) + " bytes without a STOP opcode (truncated pickle)");
}

}  // namespace

const char* pickle_kind_name(PickleKind kind) {
    switch (kind) {
        case PickleKind::None: return "None";
        case PickleKind::Bool: return "bool";
        case PickleKind::Int: return "int";
        case PickleKind::Float: return "float";
        case PickleKind::String: return "str";
        case PickleKind::Bytes: return "bytes";
        case PickleKind::Tuple: return "tuple";
        case PickleKind::List: return "list";
        case PickleKind::Dict: return "dict";
        case PickleKind::Global: return "global";
        case PickleKind::Storage: return "storage";
        case PickleKind::Tensor: return "tensor";
        case PickleKind::Object: return "object";
    }
    return "?";
}

std::string torch_storage_dtype(const std::string& name) {
    std::string base = name;
    for (const char* prefix : {"torch.cuda.", "torch."}) {
        const size_t n = std::strlen(prefix);
        if (base.compare(0, n, prefix) == 0) {
            base = base.substr(n);
            break;
        }
    }
    if (base == "FloatStorage") return "F32";
    if (base == "DoubleStorage") return "F64";
    if (base == "HalfStorage") return "F16";
    if (base == "BFloat16Storage") return "BF16";
    if (base == "LongStorage") return "I64";
    if (base == "IntStorage") return "I32";
    if (base == "ShortStorage") return "I16";
    if (base == "CharStorage") return "I8";
    if (base == "ByteStorage") return "U8";
    if (base == "BoolStorage") return "BOOL";
    return "";
}

Result<PickleGraph> read_pickle(const uint8_t* data, size_t size, const std::string& name_for_messages) {
    return Unpickler(data, size, name_for_messages).run();
}

}  // namespace quantlab
