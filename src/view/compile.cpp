// Mustache parsing: text and tags into a tree of nodes, with the standalone-line rules applied here so that
// rendering only walks the tree.
#include "view/compiled.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <utility>

namespace zephyr::view::detail {
namespace {

bool is_blank(char c) {
    return c == ' ' || c == '\t';
}
bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && is_space(s.front()))
        s.remove_prefix(1);
    while (!s.empty() && is_space(s.back()))
        s.remove_suffix(1);
    return s;
}

// A piece of the template for an error message: at most 60 bytes, on one line.
std::string quote(std::string_view s) {
    std::string out;
    for (char c : s.substr(0, 60)) {
        if (c == '\n') {
            out += "\\n";
        } else if (c == '\r') {
            out += "\\r";
        } else {
            out += c;
        }
    }
    if (s.size() > 60) out += "...";
    return "'" + out + "'";
}

std::uint32_t clamp32(std::size_t n) {
    return static_cast<std::uint32_t>(std::min<std::size_t>(n, std::numeric_limits<std::uint32_t>::max()));
}

enum class tag_kind { variable, raw, section, inverted, close, partial, comment, delimiters };

bool can_stand_alone(tag_kind k) {
    return k != tag_kind::variable && k != tag_kind::raw;
}

class parser {
public:
    parser(std::string_view source, const std::string& name, const view::limits& limits, std::string_view open,
           std::string_view close)
        : src_{source}, name_{name}, limits_{limits}, open_{open}, close_{close} {}

    std::vector<node> run() {
        levels_.emplace_back();
        std::size_t pos = 0;         // where to look for the next tag
        std::size_t text_begin = 0;  // start of the text not yet added to the tree
        while (true) {
            std::size_t tag_begin = src_.find(open_, pos);
            if (tag_begin == std::string_view::npos) {
                add_text(text_begin, src_.size());
                break;
            }
            tag t = read_tag(tag_begin);

            // Standalone: only blanks between the start of the line and the tag, and between the tag and the
            // end of the line (or of the template). Then the whole line, its line break included, disappears.
            std::size_t text_end = tag_begin;
            std::size_t next = t.end;
            bool standalone = false;
            std::size_t line_begin = 0;
            if (can_stand_alone(t.kind) && starts_line(text_begin, tag_begin, line_begin)) {
                std::size_t q = t.end;
                while (q < src_.size() && is_blank(src_[q]))
                    ++q;
                std::size_t after = std::string_view::npos;
                if (q == src_.size()) {
                    after = q;
                } else if (src_[q] == '\n') {
                    after = q + 1;
                } else if (src_[q] == '\r' && q + 1 < src_.size() && src_[q + 1] == '\n') {
                    after = q + 2;
                }
                if (after != std::string_view::npos) {
                    standalone = true;
                    text_end = line_begin;
                    next = after;
                }
            }
            add_text(text_begin, text_end);
            handle(t, standalone, standalone ? src_.substr(line_begin, tag_begin - line_begin) : std::string_view{},
                   text_end, next);
            pos = text_begin = next;
        }
        if (!frames_.empty()) {
            const node& open = frames_.back().n;
            fail_at(open.line, open.column,
                    fmt::format("section '{}' is never closed (expected '{}/{}{}')", open.text, open.open, open.text,
                                open.close));
        }
        return std::move(levels_.front());
    }

private:
    struct tag {
        tag_kind kind = tag_kind::variable;
        std::size_t begin = 0;     // first byte of the opening delimiter
        std::size_t end = 0;       // one past the closing delimiter
        std::string_view content;  // between sigil and closing delimiter (or '}' / '=' before it)
    };

    struct frame {
        node n;
        std::size_t content_begin = 0;
    };

    // The text between `text_begin` and `tag_begin` ends with a line start followed by blanks only. Scans
    // back over blanks only, so a long line with many tags stays linear.
    bool starts_line(std::size_t text_begin, std::size_t tag_begin, std::size_t& line_begin) const {
        std::size_t i = tag_begin;
        while (i > text_begin && is_blank(src_[i - 1]))
            --i;
        if (i > text_begin) {
            if (src_[i - 1] != '\n') return false;
            line_begin = i;
            return true;
        }
        // Only blanks since the previous tag: they start a line only at the start of the template or after a
        // line break that a previous standalone tag consumed.
        if (text_begin == 0 || src_[text_begin - 1] == '\n') {
            line_begin = text_begin;
            return true;
        }
        return false;
    }

    tag read_tag(std::size_t begin) {
        tag t;
        t.begin = begin;
        std::size_t p = begin + open_.size();
        std::string end_marker{close_};
        if (p < src_.size()) {
            switch (src_[p]) {
                case '{':
                    t.kind = tag_kind::raw;
                    end_marker = "}" + close_;
                    ++p;
                    break;
                case '&':
                    t.kind = tag_kind::raw;
                    ++p;
                    break;
                case '#':
                    t.kind = tag_kind::section;
                    ++p;
                    break;
                case '^':
                    t.kind = tag_kind::inverted;
                    ++p;
                    break;
                case '/':
                    t.kind = tag_kind::close;
                    ++p;
                    break;
                case '>':
                    t.kind = tag_kind::partial;
                    ++p;
                    break;
                case '!':
                    t.kind = tag_kind::comment;
                    ++p;
                    break;
                case '=':
                    t.kind = tag_kind::delimiters;
                    end_marker = "=" + close_;
                    ++p;
                    break;
                default:
                    break;
            }
        }
        std::size_t end = p <= src_.size() ? src_.find(end_marker, p) : std::string_view::npos;
        if (end == std::string_view::npos) {
            fail(begin, fmt::format("tag {} is never closed with '{}'", quote(src_.substr(begin, 20)), end_marker));
        }
        t.content = src_.substr(p, end - p);
        t.end = end + end_marker.size();
        return t;
    }

    void handle(const tag& t, bool standalone, std::string_view indent, std::size_t text_end, std::size_t next) {
        switch (t.kind) {
            case tag_kind::comment:
                return;
            case tag_kind::delimiters:
                set_delimiters(t);
                return;
            case tag_kind::variable:
            case tag_kind::raw: {
                node n = make_node(t, t.kind == tag_kind::raw ? node_kind::raw : node_kind::escaped);
                levels_.back().push_back(std::move(n));
                return;
            }
            case tag_kind::partial: {
                node n = make_node(t, node_kind::partial);
                n.standalone = standalone;
                n.indent = std::string{indent};
                levels_.back().push_back(std::move(n));
                return;
            }
            case tag_kind::section:
            case tag_kind::inverted: {
                if (frames_.size() >= limits_.max_depth) {
                    fail(t.begin, fmt::format("sections nested more than {} deep", limits_.max_depth));
                }
                node n = make_node(t, t.kind == tag_kind::section ? node_kind::section : node_kind::inverted);
                n.open = open_;
                n.close = close_;
                frames_.push_back(frame{std::move(n), next});
                levels_.emplace_back();
                return;
            }
            case tag_kind::close: {
                std::string_view name = checked_name(t);
                if (frames_.empty()) {
                    fail(t.begin, fmt::format("closing tag {} has no open section", quote(tag_text(t))));
                }
                frame& f = frames_.back();
                if (f.n.text != name) {
                    fail(t.begin, fmt::format("closing tag {} does not match the open section '{}' (opened at line "
                                              "{}, column {})",
                                              quote(tag_text(t)), f.n.text, f.n.line, f.n.column));
                }
                node n = std::move(f.n);
                n.raw_begin = f.content_begin;
                n.raw_end = std::max(text_end, f.content_begin);
                n.children = std::move(levels_.back());
                frames_.pop_back();
                levels_.pop_back();
                levels_.back().push_back(std::move(n));
                return;
            }
        }
    }

    void set_delimiters(const tag& t) {
        std::string_view d = trim(t.content);
        auto bad = [&](std::string_view why) {
            fail(t.begin, fmt::format("set-delimiter tag {} {}; write it as {}=<% %>={}", quote(tag_text(t)), why,
                                      open_, close_));
        };
        std::size_t gap = 0;
        while (gap < d.size() && !is_space(d[gap]))
            ++gap;
        if (d.empty() || gap == d.size()) bad("needs two delimiters separated by whitespace");
        std::string_view open = d.substr(0, gap);
        std::string_view close = trim(d.substr(gap));
        if (std::any_of(close.begin(), close.end(), is_space)) bad("has more than two delimiters");
        open_ = std::string{open};
        close_ = std::string{close};
    }

    std::string_view tag_text(const tag& t) const { return src_.substr(t.begin, t.end - t.begin); }

    std::string_view checked_name(const tag& t) {
        std::string_view name = trim(t.content);
        if (name.empty()) fail(t.begin, fmt::format("tag {} has no name", quote(tag_text(t))));
        if (std::any_of(name.begin(), name.end(), is_space)) {
            fail(t.begin, fmt::format("tag {} has a name with whitespace in it", quote(tag_text(t))));
        }
        return name;
    }

    node make_node(const tag& t, node_kind kind) {
        node n;
        n.kind = kind;
        std::string_view name = checked_name(t);
        auto [line, column] = where(t.begin);
        n.line = clamp32(line);
        n.column = clamp32(column);
        n.text = std::string{name};
        if (name != "." && kind != node_kind::partial) {
            std::size_t start = 0;
            while (true) {
                std::size_t dot = name.find('.', start);
                std::string_view part = name.substr(start, dot == std::string_view::npos ? dot : dot - start);
                if (part.empty()) {
                    fail(t.begin, fmt::format("name '{}' in tag {} has an empty part; dots separate non-empty "
                                              "names, as in 'user.address.city'",
                                              name, quote(tag_text(t))));
                }
                n.path.emplace_back(part);
                if (dot == std::string_view::npos) break;
                start = dot + 1;
            }
        }
        return n;
    }

    void add_text(std::size_t begin, std::size_t end) {
        if (end <= begin) return;
        auto& level = levels_.back();
        if (!level.empty() && level.back().kind == node_kind::text) {
            level.back().text.append(src_.substr(begin, end - begin));
            return;
        }
        node n;
        n.text = std::string{src_.substr(begin, end - begin)};
        level.push_back(std::move(n));
    }

    // 1-based line and column of `pos`, counted incrementally since tags come in order.
    std::pair<std::size_t, std::size_t> where(std::size_t pos) {
        if (pos < counted_) {
            counted_ = 0;
            line_ = 1;
            line_begin_ = 0;
        }
        for (; counted_ < pos; ++counted_) {
            if (src_[counted_] == '\n') {
                ++line_;
                line_begin_ = counted_ + 1;
            }
        }
        return {line_, pos - line_begin_ + 1};
    }

    [[noreturn]] void fail(std::size_t pos, std::string message) {
        auto [line, column] = where(pos);
        fail_at(line, column, std::move(message));
    }

    [[noreturn]] void fail_at(std::size_t line, std::size_t column, std::string message) {
        throw template_error(name_, line, column, std::move(message));
    }

    std::string_view src_;
    const std::string& name_;
    const view::limits& limits_;
    std::string open_;
    std::string close_;
    std::vector<std::vector<node>> levels_;
    std::vector<frame> frames_;
    std::size_t counted_ = 0;
    std::size_t line_ = 1;
    std::size_t line_begin_ = 0;
};

}  // namespace

std::shared_ptr<const compiled> compile(std::string_view source, std::string name, const view::limits& limits,
                                        std::string_view open, std::string_view close) {
    auto c = std::make_shared<compiled>();
    c->name = name.empty() ? std::string{"<inline>"} : std::move(name);
    c->source = std::string{source};
    c->limits = limits;
    c->nodes = parser{c->source, c->name, c->limits, open, close}.run();
    return c;
}

}  // namespace zephyr::view::detail
