// Mustache rendering: walks the compiled tree with a stack of contexts.
#include "view/compiled.hpp"

#include <boost/json/serialize.hpp>

#include <fmt/format.h>

#include <charconv>
#include <utility>

namespace zephyr::view::detail {
namespace {

namespace bj = boost::json;

bool truthy(const bj::value& v) {
    switch (v.kind()) {
        case bj::kind::null:
            return false;
        case bj::kind::bool_:
            return v.get_bool();
        case bj::kind::int64:
            return v.get_int64() != 0;
        case bj::kind::uint64:
            return v.get_uint64() != 0;
        case bj::kind::double_:
            return v.get_double() != 0.0;
        case bj::kind::string:
            return !v.get_string().empty();
        case bj::kind::array:
            return !v.get_array().empty();
        case bj::kind::object:
            return true;
    }
    return false;
}

// `part` of a dotted name against one value: a key of an object, or an index into an array (`items.0`).
const bj::value* child(const bj::value& v, std::string_view part) {
    if (const auto* o = v.if_object()) return o->if_contains(part);
    if (const auto* a = v.if_array()) {
        std::size_t i = 0;
        auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), i);
        if (ec != std::errc{} || end != part.data() + part.size()) return nullptr;
        return i < a->size() ? &(*a)[i] : nullptr;
    }
    return nullptr;
}

class renderer {
public:
    renderer(const view::limits& limits, partial_source& partials, const lambdas& fns)
        : limits_{limits}, partials_{partials}, fns_{fns} {}

    std::string run(const compiled& t, const bj::value& data) {
        stack_.push_back(&data);
        render_nodes(t, t.nodes);
        return std::move(out_);
    }

private:
    struct found {
        const bj::value* value = nullptr;
        const lambda* fn = nullptr;
    };

    // Counts one level of sections, partials and lambda results, so recursion ends with an error.
    class nesting {
    public:
        nesting(renderer& r, const compiled& t, const node& n) : r_{r} {
            if (++r_.depth_ > r_.limits_.max_depth) {
                r_.fail(t, n,
                        fmt::format("sections, partials and lambda results nested more than {} deep at '{}'{}",
                                    r_.limits_.max_depth, n.text,
                                    n.kind == node_kind::partial ? "; does the partial include itself "
                                                                   "without end?"
                                                                 : ""));
            }
        }
        ~nesting() { --r_.depth_; }
        nesting(const nesting&) = delete;
        nesting& operator=(const nesting&) = delete;

    private:
        renderer& r_;
    };

    [[noreturn]] void fail(const compiled& t, const node& n, std::string message) const {
        throw template_error(t.name, n.line, n.column, std::move(message));
    }

    void step(const compiled& t, const node& n) {
        if (++steps_ > limits_.max_steps) {
            fail(t, n,
                 fmt::format("rendering took more than {} steps (limits.max_steps); nested sections over "
                             "large lists?",
                             limits_.max_steps));
        }
    }

    void check_output(const compiled& t, const node& n, std::size_t extra = 0) const {
        if (out_.size() + extra > limits_.max_output) {
            fail(t, n, fmt::format("output larger than {} bytes (limits.max_output)", limits_.max_output));
        }
    }

    void render_nodes(const compiled& t, const std::vector<node>& nodes) {
        for (const node& n : nodes)
            visit(t, n);
    }

    void visit(const compiled& t, const node& n) {
        step(t, n);
        switch (n.kind) {
            case node_kind::text:
                emit_text(n.text);
                break;
            case node_kind::escaped:
            case node_kind::raw:
                interpolate(t, n);
                break;
            case node_kind::section:
                section(t, n);
                break;
            case node_kind::inverted:
                inverted(t, n);
                break;
            case node_kind::partial:
                partial(t, n);
                break;
        }
        check_output(t, n);
    }

    found lookup(const node& n) const {
        if (n.path.empty()) return {stack_.back(), nullptr};
        const bj::value* v = nullptr;
        for (auto it = stack_.rbegin(); it != stack_.rend() && v == nullptr; ++it) {
            if (const auto* o = (*it)->if_object()) v = o->if_contains(n.path.front());
        }
        if (v == nullptr) {
            auto fn = fns_.find(n.text);
            return fn == fns_.end() ? found{} : found{nullptr, &fn->second};
        }
        for (std::size_t i = 1; i < n.path.size() && v != nullptr; ++i)
            v = child(*v, n.path[i]);
        return {v, nullptr};
    }

    void interpolate(const compiled& t, const node& n) {
        bool escape = n.kind == node_kind::escaped;
        found f = lookup(n);
        if (f.fn != nullptr) {
            // The result is rendered with the default delimiters into a buffer of its own, then inserted as a
            // value: escaped for {{name}}, never indented line by line.
            std::string text = (*f.fn)("");
            auto c = compile_lambda_result(t, n, text, "{{", "}}");
            nesting guard{*this, t, n};
            std::string saved_out = std::exchange(out_, {});
            std::string saved_indent = std::exchange(indent_, {});
            bool saved_line_start = std::exchange(line_start_, true);
            render_nodes(*c, c->nodes);
            std::string result = std::exchange(out_, std::move(saved_out));
            indent_ = std::move(saved_indent);
            line_start_ = saved_line_start;
            check_output(t, n, escape ? result.size() : 0);
            emit_value(result, escape);
            return;
        }
        if (f.value == nullptr) return;
        const bj::value& v = *f.value;
        char buf[64];
        switch (v.kind()) {
            case bj::kind::null:
                return;
            case bj::kind::string:
                emit_value(v.get_string(), escape);
                return;
            case bj::kind::bool_:
                emit_value(v.get_bool() ? "true" : "false", false);
                return;
            case bj::kind::int64: {
                auto r = std::to_chars(buf, buf + sizeof buf, v.get_int64());
                emit_value(std::string_view(buf, static_cast<std::size_t>(r.ptr - buf)), false);
                return;
            }
            case bj::kind::uint64: {
                auto r = std::to_chars(buf, buf + sizeof buf, v.get_uint64());
                emit_value(std::string_view(buf, static_cast<std::size_t>(r.ptr - buf)), false);
                return;
            }
            case bj::kind::double_: {
                auto r = std::to_chars(buf, buf + sizeof buf, v.get_double());  // shortest round-trip form
                emit_value(std::string_view(buf, static_cast<std::size_t>(r.ptr - buf)), false);
                return;
            }
            case bj::kind::array:
            case bj::kind::object:
                emit_value(bj::serialize(v), escape);
                return;
        }
    }

    void section(const compiled& t, const node& n) {
        found f = lookup(n);
        if (f.fn != nullptr) {
            std::string_view raw = std::string_view{t.source}.substr(n.raw_begin, n.raw_end - n.raw_begin);
            std::string text = (*f.fn)(raw);
            auto c = compile_lambda_result(t, n, text, n.open, n.close);
            nesting guard{*this, t, n};
            render_nodes(*c, c->nodes);
            return;
        }
        if (f.value == nullptr || !truthy(*f.value)) return;
        nesting guard{*this, t, n};
        if (const auto* list = f.value->if_array()) {
            for (const bj::value& item : *list) {
                step(t, n);
                stack_.push_back(&item);
                render_nodes(t, n.children);
                stack_.pop_back();
            }
            return;
        }
        stack_.push_back(f.value);
        render_nodes(t, n.children);
        stack_.pop_back();
    }

    void inverted(const compiled& t, const node& n) {
        found f = lookup(n);
        if (f.fn != nullptr) return;  // a lambda is truthy
        if (f.value != nullptr && truthy(*f.value)) return;
        nesting guard{*this, t, n};
        render_nodes(t, n.children);
    }

    void partial(const compiled& t, const node& n) {
        const compiled* p = nullptr;
        try {
            p = partials_.find(n.text);
        } catch (const template_error& e) {
            if (e.line() != 0) throw;  // a compile error inside the partial names its own position
            fail(t, n, fmt::format("partial '{}': {}", n.text, e.what()));
        }
        if (p == nullptr) return;
        nesting guard{*this, t, n};
        if (!n.standalone) {
            render_nodes(*p, p->nodes);
            return;
        }
        // A standalone partial is indented like its tag: every line it renders starts with that whitespace.
        std::string saved_indent = indent_;
        indent_ += n.indent;
        line_start_ = true;
        render_nodes(*p, p->nodes);
        indent_ = std::move(saved_indent);
    }

    std::shared_ptr<const compiled> compile_lambda_result(const compiled& t, const node& n, std::string_view text,
                                                          std::string_view open, std::string_view close) {
        try {
            return compile(text, fmt::format("lambda '{}'", n.text), limits_, open, close);
        } catch (const template_error& e) {
            fail(t, n, fmt::format("lambda '{}' returned text that does not compile: {}", n.text, e.what()));
        }
    }

    void emit_text(std::string_view s) {
        if (s.empty()) return;
        if (indent_.empty()) {
            out_.append(s);
            line_start_ = s.back() == '\n';
            return;
        }
        std::size_t i = 0;
        while (i < s.size()) {
            std::size_t nl = s.find('\n', i);
            std::size_t end = nl == std::string_view::npos ? s.size() : nl + 1;
            std::string_view line = s.substr(i, end - i);
            if (line_start_ && line != "\n" && line != "\r\n") out_ += indent_;
            out_.append(line);
            line_start_ = line.back() == '\n';
            i = end;
        }
    }

    void emit_value(std::string_view s, bool escape) {
        if (s.empty()) return;
        if (line_start_ && !indent_.empty()) out_ += indent_;
        if (escape) {
            append_escaped(out_, s);
        } else {
            out_.append(s);
        }
        line_start_ = false;
    }

    const view::limits& limits_;
    partial_source& partials_;
    const lambdas& fns_;
    std::vector<const bj::value*> stack_;
    std::string out_;
    std::string indent_;
    bool line_start_ = true;
    std::size_t depth_ = 0;
    std::size_t steps_ = 0;
};

}  // namespace

std::string render(const compiled& t, const boost::json::value& data, partial_source& partials,
                   const lambdas& lambdas) {
    return renderer{t.limits, partials, lambdas}.run(t, data);
}

}  // namespace zephyr::view::detail
