// Mustache rendering: walks the compiled tree with a stack of contexts. The data is read through data_refs
// (zephyr/view/detail/data.hpp), so described structs and JSON values are rendered alike and in place.
#include "view/compiled.hpp"

#include <boost/container/small_vector.hpp>
#include <boost/json/value.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <forward_list>
#include <utility>

namespace zephyr::view::detail {
namespace {

// Renders never reserve more than this up front, however large an earlier output was.
constexpr std::size_t max_output_hint = std::size_t{256} * 1024;

class renderer {
public:
    renderer(const view::limits& limits, partial_source& partials, const lambdas& fns)
        : limits_{limits}, partials_{partials}, fns_{fns} {}

    std::string run(const compiled& t, data_ref data) {
        const std::size_t hint = t.output_hint.load(std::memory_order_relaxed);
        if (hint != 0) out_.reserve(hint);
        stack_.push_back(resolve(data));
        render_nodes(t, t.nodes);
        if (out_.size() > hint && hint < max_output_hint) {
            t.output_hint.store(std::min(out_.size(), max_output_hint), std::memory_order_relaxed);
        }
        return std::move(out_);
    }

private:
    struct found {
        data_ref value{};
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

    // A value of the kind `other` (a time point, a map, ...) as JSON, kept until the render ends.
    data_ref resolve(data_ref v) {
        if (!v || v.ops->kind != data_kind::other) return v;
        converted_.push_front(v.ops->to_json(v.ptr));
        return ref_of(converted_.front());
    }

    // `part` of a dotted name against one value: a member or key of an object, or an index into a list
    // (`items.0`).
    data_ref child(data_ref v, std::string_view part) {
        if (v.ops->kind == data_kind::object) return resolve(v.ops->find(v.ptr, part));
        if (v.ops->kind == data_kind::list) {
            std::size_t i = 0;
            auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), i);
            if (ec != std::errc{} || end != part.data() + part.size()) return {};
            return i < v.ops->size(v.ptr) ? resolve(v.ops->at(v.ptr, i)) : data_ref{};
        }
        return {};
    }

    found lookup(const node& n) {
        if (n.path.empty()) return {stack_.back(), nullptr};
        data_ref v;
        for (auto it = stack_.rbegin(); it != stack_.rend() && !v; ++it) {
            if (it->ops->kind == data_kind::object) v = it->ops->find(it->ptr, n.path.front());
        }
        if (!v) {
            auto fn = fns_.find(n.text);
            return fn == fns_.end() ? found{} : found{data_ref{}, &fn->second};
        }
        v = resolve(v);
        for (std::size_t i = 1; i < n.path.size() && v; ++i)
            v = child(v, n.path[i]);
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
        if (!f.value) return;
        const data_ref v = f.value;
        switch (v.ops->kind) {
            case data_kind::null:
            case data_kind::other:  // resolved by lookup, never seen here
                return;
            case data_kind::string:
                emit_value(v.ops->text(v.ptr, nullptr), escape);
                return;
            case data_kind::boolean:
            case data_kind::number: {
                char buf[number_buffer_size];
                emit_value(v.ops->text(v.ptr, buf), false);
                return;
            }
            case data_kind::list:
            case data_kind::object:
                emit_value(v.ops->json_text(v.ptr), escape);
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
        const data_ref v = f.value;
        if (!v || !v.ops->truthy(v.ptr)) return;
        nesting guard{*this, t, n};
        if (v.ops->kind == data_kind::list) {
            const std::size_t size = v.ops->size(v.ptr);
            for (std::size_t i = 0; i < size; ++i) {
                step(t, n);
                stack_.push_back(resolve(v.ops->at(v.ptr, i)));
                render_nodes(t, n.children);
                stack_.pop_back();
            }
            return;
        }
        stack_.push_back(v);
        render_nodes(t, n.children);
        stack_.pop_back();
    }

    void inverted(const compiled& t, const node& n) {
        found f = lookup(n);
        if (f.fn != nullptr) return;  // a lambda is truthy
        if (f.value && f.value.ops->truthy(f.value.ptr)) return;
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
    boost::container::small_vector<data_ref, 8> stack_;  // without an allocation up to 8 deep
    std::forward_list<boost::json::value> converted_;  // values of the kind `other`, converted to JSON
    std::string out_;
    std::string indent_;
    bool line_start_ = true;
    std::size_t depth_ = 0;
    std::size_t steps_ = 0;
};

}  // namespace

std::string render(const compiled& t, data_ref data, partial_source& partials, const lambdas& lambdas) {
    return renderer{t.limits, partials, lambdas}.run(t, data);
}

}  // namespace zephyr::view::detail
