#include <zephyr/http/error.hpp>
#include <zephyr/http/multipart.hpp>

#include "http/file_sink.hpp"
#include "http/parser.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <system_error>

namespace zephyr::http {
namespace {

constexpr std::size_t max_padding = 64;  // spaces or tabs allowed after a boundary, before its CRLF
constexpr std::size_t read_size = 64 * 1024;

bool is_ows(char c) noexcept { return c == ' ' || c == '\t'; }

std::string_view trim(std::string_view s) noexcept {
    while (!s.empty() && is_ows(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_ows(s.back())) s.remove_suffix(1);
    return s;
}

std::string lower(std::string_view s) {
    std::string out{s};
    for (char& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
    return out;
}

bool is_token(std::string_view s) noexcept {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return detail::is_tchar(static_cast<unsigned char>(c)); });
}

// `type; name=value; name="quoted value"` (Content-Type, Content-Disposition): the type and the parameters with
// lower-case names. Nothing when the syntax is broken. In a quoted value a backslash escapes only '"' and '\':
// browsers do not escape, and old ones sent Windows paths ("C:\dir\file.txt") as they were.
struct parameterized {
    std::string type;
    std::vector<std::pair<std::string, std::string>> params;

    const std::string* get(std::string_view name) const noexcept {
        for (const auto& [k, v] : params)
            if (k == name) return &v;
        return nullptr;
    }
};

std::optional<parameterized> parse_parameterized(std::string_view s) {
    parameterized out;
    std::size_t semi = s.find(';');
    out.type = lower(trim(s.substr(0, semi)));
    if (!is_token(out.type) && out.type.find('/') == std::string::npos) return std::nullopt;
    std::size_t i = semi == std::string_view::npos ? s.size() : semi + 1;
    while (i < s.size()) {
        while (i < s.size() && (is_ows(s[i]) || s[i] == ';')) ++i;
        if (i == s.size()) break;
        std::size_t eq = s.find('=', i);
        if (eq == std::string_view::npos) return std::nullopt;
        std::string_view name = trim(s.substr(i, eq - i));
        if (!is_token(name)) return std::nullopt;
        i = eq + 1;
        while (i < s.size() && is_ows(s[i])) ++i;
        std::string value;
        if (i < s.size() && s[i] == '"') {
            ++i;
            bool closed = false;
            while (i < s.size()) {
                char c = s[i++];
                if (c == '"') {
                    closed = true;
                    break;
                }
                if (c == '\\' && i < s.size() && (s[i] == '"' || s[i] == '\\')) c = s[i++];
                value += c;
            }
            if (!closed) return std::nullopt;
            while (i < s.size() && is_ows(s[i])) ++i;
            if (i < s.size() && s[i] != ';') return std::nullopt;
        } else {
            std::size_t end = s.find(';', i);
            value = std::string{trim(s.substr(i, end == std::string_view::npos ? std::string_view::npos : end - i))};
            i = end == std::string_view::npos ? s.size() : end;
        }
        out.params.emplace_back(lower(name), std::move(value));
    }
    return out;
}

// RFC 5987 ext-value: charset'language'percent-encoded, in UTF-8 or ISO-8859-1 (converted to UTF-8).
std::optional<std::string> decode_ext_value(std::string_view v) {
    auto q1 = v.find('\'');
    if (q1 == std::string_view::npos) return std::nullopt;
    auto q2 = v.find('\'', q1 + 1);
    if (q2 == std::string_view::npos) return std::nullopt;
    std::string_view charset = v.substr(0, q1);
    auto decoded = percent_decode(v.substr(q2 + 1));
    if (!decoded) return std::nullopt;
    if (iequals(charset, "utf-8")) return decoded;
    if (iequals(charset, "iso-8859-1")) {
        std::string utf8;
        for (unsigned char c : *decoded) {
            if (c < 0x80) {
                utf8 += static_cast<char>(c);
            } else {
                utf8 += static_cast<char>(0xC0 | (c >> 6));
                utf8 += static_cast<char>(0x80 | (c & 0x3F));
            }
        }
        return utf8;
    }
    return std::nullopt;
}

bool is_bchar(char c) noexcept {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           std::string_view{"'()+_,-./:=? "}.find(c) != std::string_view::npos;
}

}  // namespace

// ---- free functions ------------------------------------------------------------------------------------------

std::string multipart_boundary(std::string_view content_type) {
    if (!iequals(trim(content_type.substr(0, content_type.find(';'))), "multipart/form-data"))
        throw HttpError{status::unsupported_media_type,
                        "expected a multipart/form-data body (Content-Type: multipart/form-data; boundary=...)"};
    auto p = parse_parameterized(content_type);
    if (!p) throw HttpError{status::bad_request, "malformed multipart/form-data Content-Type parameters"};
    const std::string* b = p->get("boundary");
    if (b == nullptr) throw HttpError{status::bad_request, "multipart/form-data without a boundary parameter"};
    if (b->empty() || b->size() > 70 || b->back() == ' ' || !std::all_of(b->begin(), b->end(), is_bchar))
        throw HttpError{status::bad_request, "invalid multipart boundary: 1 to 70 letters, digits or '()+_,-./:=? "
                                             "(not ending in a space)"};
    return *b;
}

std::string safe_filename(std::string_view raw) {
    if (auto slash = raw.find_last_of("/\\"); slash != std::string_view::npos) raw.remove_prefix(slash + 1);
    std::string out;
    out.reserve(raw.size());
    for (char c : raw) {
        auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7F) continue;
        if (std::string_view{":<>\"|?*"}.find(c) != std::string_view::npos) c = '_';
        out += c;
    }
    std::size_t start = out.find_first_not_of(". ");
    if (start == std::string::npos) return {};
    out.erase(0, start);
    if (out.size() > 255) {
        std::size_t cut = 255;
        // Do not split a UTF-8 sequence: back up over continuation bytes to the start of the character.
        while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;
        out.resize(cut);
    }
    while (!out.empty() && (out.back() == '.' || out.back() == ' ')) out.pop_back();
    return out;
}

std::optional<content_disposition> parse_content_disposition(std::string_view value) {
    auto p = parse_parameterized(value);
    if (!p || !is_token(p->type)) return std::nullopt;
    content_disposition out;
    out.type = std::move(p->type);
    if (const auto* n = p->get("name")) out.name = *n;
    if (const auto* f = p->get("filename")) out.filename = *f;
    if (const auto* f = p->get("filename*"))
        if (auto decoded = decode_ext_value(*f)) out.filename = std::move(*decoded);
    return out;
}

// ---- multipart_parser ----------------------------------------------------------------------------------------

multipart_parser::multipart_parser(std::string_view boundary, const multipart_limits& limits)
    : delimiter_{"\r\n--" + std::string{boundary}}, limits_{limits} {}

std::span<char> multipart_parser::prepare(std::size_t n) {
    data_ = {};
    if (begin_ == end_) {
        begin_ = end_ = 0;
    } else if (begin_ > 0 && cap_ - end_ < n) {
        std::memmove(buf_.get(), buf_.get() + begin_, end_ - begin_);
        end_ -= begin_;
        begin_ = 0;
    }
    if (cap_ - end_ < n) {
        std::size_t next = std::max(end_ + n, cap_ * 2);
        auto grown = std::make_unique<char[]>(next);
        if (end_ > 0) std::memcpy(grown.get(), buf_.get(), end_);
        buf_ = std::move(grown);
        cap_ = next;
    }
    return {buf_.get() + end_, cap_ - end_};
}

void multipart_parser::feed(std::string_view bytes) {
    if (bytes.empty()) return;
    auto space = prepare(bytes.size());
    std::memcpy(space.data(), bytes.data(), bytes.size());
    commit(bytes.size());
}

multipart_parser::event multipart_parser::fail(http::status s, std::string message) {
    state_ = state::failed;
    error_status_ = s;
    error_message_ = std::move(message);
    return event::error;
}

bool multipart_parser::parse_header_line(std::string_view line) {
    for (char c : line) {
        auto u = static_cast<unsigned char>(c);
        if ((u < 0x20 && c != '\t') || u == 0x7F) {
            fail(status::bad_request, fmt::format("multipart part {}: invalid character in a header line", parts_));
            return false;
        }
    }
    if (is_ows(line.front())) {
        // Obsolete line folding (RFC 5322): the line continues the previous field's value.
        if (fields_.empty()) {
            fail(status::bad_request, fmt::format("multipart part {}: header continuation without a field", parts_));
            return false;
        }
        auto more = trim(line);
        if (!more.empty()) {
            if (!fields_.back().second.empty()) fields_.back().second += ' ';
            fields_.back().second += more;
        }
        return true;
    }
    auto colon = line.find(':');
    if (colon == std::string_view::npos || !is_token(line.substr(0, colon))) {
        fail(status::bad_request, fmt::format("multipart part {}: malformed header line", parts_));
        return false;
    }
    fields_.emplace_back(std::string{line.substr(0, colon)}, std::string{trim(line.substr(colon + 1))});
    return true;
}

multipart_parser::event multipart_parser::next() {
    data_ = {};
    const std::string_view delim = delimiter_;
    while (true) {
        const std::string_view in{buf_.get() + begin_, available()};
        switch (state_) {
            case state::start: {
                // The body may open with the first delimiter without its leading CRLF.
                const std::string_view first = delim.substr(2);
                const std::size_t n = std::min(in.size(), first.size());
                if (in.substr(0, n) != first.substr(0, n)) {
                    state_ = state::preamble;
                    break;
                }
                if (n < first.size()) {
                    if (finished_) return fail(status::bad_request, "the body has no multipart boundary");
                    return event::need_more;
                }
                begin_ += first.size();
                state_ = state::after_delimiter;
                break;
            }
            case state::preamble: {
                if (auto i = in.find(delim); i != std::string_view::npos) {
                    begin_ += i + delim.size();
                    state_ = state::after_delimiter;
                    break;
                }
                begin_ = end_ - std::min(in.size(), delim.size() - 1);  // keep what may start a delimiter
                if (finished_) return fail(status::bad_request, "the body has no multipart boundary");
                return event::need_more;
            }
            case state::after_delimiter:
                if (in.empty()) {
                    if (finished_) return fail(status::bad_request, "the body ended after a boundary");
                    return event::need_more;
                }
                if (in.front() == '-') {
                    ++begin_;
                    state_ = state::dash;
                } else {
                    padding_ = 0;
                    state_ = state::padding;
                }
                break;
            case state::dash:
                if (in.empty()) {
                    if (finished_) return fail(status::bad_request, "the body ended after a boundary");
                    return event::need_more;
                }
                if (in.front() != '-') return fail(status::bad_request, "malformed multipart boundary line");
                ++begin_;
                state_ = state::epilogue;
                return event::done;
            case state::padding: {
                std::size_t i = 0;
                while (i < in.size() && is_ows(in[i])) ++i;
                padding_ += i;
                begin_ += i;
                if (padding_ > max_padding) return fail(status::bad_request, "malformed multipart boundary line");
                if (i == in.size()) {
                    if (finished_) return fail(status::bad_request, "the body ended after a boundary");
                    return event::need_more;
                }
                if (in[i] != '\r')
                    return fail(status::bad_request, "malformed multipart boundary line: expected CRLF after the boundary");
                ++begin_;
                state_ = state::delimiter_lf;
                break;
            }
            case state::delimiter_lf:
                if (in.empty()) {
                    if (finished_) return fail(status::bad_request, "the body ended after a boundary");
                    return event::need_more;
                }
                if (in.front() != '\n')
                    return fail(status::bad_request, "malformed multipart boundary line: expected CRLF after the boundary");
                ++begin_;
                if (++parts_ > limits_.max_parts)
                    return fail(status::payload_too_large, fmt::format("more than {} multipart parts", limits_.max_parts));
                header_bytes_ = 0;
                fields_.clear();
                state_ = state::headers;
                break;
            case state::headers: {
                auto too_large = [&] {
                    return fail(status::payload_too_large,
                                fmt::format("multipart part {}: header section larger than {} bytes", parts_,
                                            limits_.max_header_bytes));
                };
                const auto eol = in.find("\r\n");
                if (eol == std::string_view::npos) {
                    if (header_bytes_ + in.size() > limits_.max_header_bytes) return too_large();
                    if (finished_)
                        return fail(status::bad_request,
                                    fmt::format("the body ended in the headers of multipart part {}", parts_));
                    return event::need_more;
                }
                header_bytes_ += eol + 2;
                if (header_bytes_ > limits_.max_header_bytes) return too_large();
                begin_ += eol + 2;
                if (eol == 0) {
                    headers_.clear();
                    for (auto& [k, v] : fields_) headers_.add(std::move(k), std::move(v));
                    fields_.clear();
                    state_ = state::body;
                    return event::part_begin;
                }
                if (!parse_header_line(in.substr(0, eol))) return event::error;
                break;
            }
            case state::body: {
                const auto at = in.find(delim);
                if (at == 0) {
                    begin_ += delim.size();
                    state_ = state::after_delimiter;
                    return event::part_end;
                }
                std::size_t n = at;
                if (at == std::string_view::npos) {
                    // Hold back a tail that may be the start of a delimiter split across pieces.
                    n = in.size();
                    for (std::size_t k = in.size() - std::min(in.size(), delim.size() - 1); k < in.size(); ++k) {
                        if (in[k] == '\r' && delim.substr(0, in.size() - k) == in.substr(k)) {
                            n = k;
                            break;
                        }
                    }
                }
                if (n == 0) {
                    if (finished_)
                        return fail(status::bad_request,
                                    fmt::format("the body ended in multipart part {}, before the closing boundary", parts_));
                    return event::need_more;
                }
                data_ = in.substr(0, n);
                begin_ += n;
                return event::data;
            }
            case state::epilogue:
                begin_ = end_;
                return event::done;
            case state::failed: return event::error;
        }
    }
}

// ---- Multipart -----------------------------------------------------------------------------------------------

struct multipart_part::state {
    state(Request& r, std::string b) : req{&r}, boundary{std::move(b)}, parser{boundary, limits} {}

    Request* req;
    std::string boundary;
    multipart_limits limits;
    multipart_parser parser;
    bool started = false;      // next() was called
    bool body_ended = false;   // the request body is read to its end
    bool finished = false;     // the closing boundary was seen
    bool in_part = false;      // between part_begin and part_end
    std::size_t index = 0;     // the current part, from 1
    std::string_view pending;  // data of the current part not yet handed out (in the parser's buffer)
    std::uint64_t part_bytes = 0;
    std::string name, filename, content_type;
    bool has_filename = false;

    // The next parser event, reading the request body as needed. Parser errors become HttpError.
    Task<multipart_parser::event> pull() {
        while (true) {
            auto e = parser.next();
            if (e == multipart_parser::event::error) throw HttpError{parser.error_status(), parser.error_message()};
            if (e != multipart_parser::event::need_more) co_return e;
            auto space = parser.prepare(read_size);
            std::size_t n = co_await req->read_body_some(space);
            if (n == 0) {
                body_ended = true;
                parser.finish();
            } else {
                parser.commit(n);
            }
        }
    }

    std::uint64_t part_limit() const noexcept { return has_filename ? limits.max_file_size : limits.max_field_size; }

    void check_current(std::size_t part) const {
        if (part != index) throw std::logic_error{"a multipart_part was used after Multipart::next()"};
    }
};

const std::string& multipart_part::name() const noexcept { return s_->name; }
bool multipart_part::is_file() const noexcept { return s_->has_filename; }
const std::string& multipart_part::filename() const noexcept { return s_->filename; }
std::string_view multipart_part::content_type() const noexcept { return s_->content_type; }
const http::headers& multipart_part::headers() const noexcept { return s_->parser.part_headers(); }

Task<std::size_t> multipart_part::read_some(std::span<char> buf) {
    state& s = *s_;
    s.check_current(index_);
    if (buf.empty()) co_return 0;
    while (s.pending.empty()) {
        if (!s.in_part) co_return 0;
        auto e = co_await s.pull();
        if (e == multipart_parser::event::part_end) {
            s.in_part = false;
            co_return 0;
        }
        if (e == multipart_parser::event::data) {
            s.pending = s.parser.data();
            s.part_bytes += s.pending.size();
            if (s.part_bytes > s.part_limit())
                throw HttpError{status::payload_too_large,
                                fmt::format("multipart {} '{}' is larger than {} bytes", s.has_filename ? "file" : "field",
                                            s.name, s.part_limit())};
        }
    }
    std::size_t n = std::min(buf.size(), s.pending.size());
    std::memcpy(buf.data(), s.pending.data(), n);
    s.pending.remove_prefix(n);
    co_return n;
}

Task<std::string> multipart_part::read_all(std::size_t max) {
    std::string out;
    char buf[16 * 1024];
    while (true) {
        std::size_t n = co_await read_some(buf);
        if (n == 0) break;
        if (out.size() + n > max)
            throw HttpError{status::payload_too_large,
                            fmt::format("multipart {} '{}' is larger than {} bytes", s_->has_filename ? "file" : "field",
                                        s_->name, max)};
        out.append(buf, n);
    }
    co_return out;
}

Task<std::uint64_t> multipart_part::save_to(std::filesystem::path path) {
    detail::file_sink file{std::move(path)};
    std::vector<char> buf(read_size);
    while (true) {
        std::size_t n = co_await read_some(buf);
        if (n == 0) break;
        file.write({buf.data(), n});
    }
    file.keep();
    co_return file.size();
}

Multipart::Multipart(std::unique_ptr<multipart_part::state> s) noexcept : s_{std::move(s)} {}
Multipart::Multipart(Multipart&&) noexcept = default;
Multipart& Multipart::operator=(Multipart&&) noexcept = default;
Multipart::~Multipart() = default;

Multipart Multipart::extract(Request& req) {
    auto type = req.header("Content-Type");
    if (!type)
        throw HttpError{status::unsupported_media_type,
                        "expected a multipart/form-data body (Content-Type: multipart/form-data; boundary=...)"};
    return Multipart{std::make_unique<multipart_part::state>(req, multipart_boundary(*type))};
}

void Multipart::set_limits(const multipart_limits& limits) {
    if (s_->started) throw std::logic_error{"Multipart::set_limits() after next()"};
    s_->limits = limits;
    s_->parser = multipart_parser{s_->boundary, limits};
}

const multipart_limits& Multipart::limits() const noexcept { return s_->limits; }

Task<std::optional<multipart_part>> Multipart::next() {
    multipart_part::state& s = *s_;
    s.started = true;
    if (s.finished) co_return std::nullopt;
    while (s.in_part) {  // skip what the handler did not read of the previous part
        s.pending = {};
        auto e = co_await s.pull();
        if (e == multipart_parser::event::part_end) s.in_part = false;
    }
    s.pending = {};
    auto e = co_await s.pull();
    if (e == multipart_parser::event::done) {
        s.finished = true;
        s.index = 0;
        // Read the epilogue, so that the connection can carry the next request.
        while (!s.body_ended) {
            auto space = s.parser.prepare(read_size);
            std::size_t n = co_await s.req->read_body_some(space);
            if (n == 0) s.body_ended = true;
        }
        co_return std::nullopt;
    }
    // part_begin: the only other event between parts.
    const std::size_t number = s.parser.parts();
    const auto& h = s.parser.part_headers();
    auto cd_field = h.get("Content-Disposition");
    std::optional<content_disposition> cd;
    if (cd_field) cd = parse_content_disposition(*cd_field);
    if (!cd || cd->type != "form-data")
        throw HttpError{status::bad_request,
                        fmt::format("multipart part {} has no valid Content-Disposition: form-data", number)};
    if (!cd->name) throw HttpError{status::bad_request, fmt::format("multipart part {} has no name", number)};
    s.name = std::move(*cd->name);
    s.has_filename = cd->filename.has_value();
    s.filename = cd->filename ? std::move(*cd->filename) : std::string{};
    s.content_type = std::string{h.get("Content-Type").value_or("text/plain")};
    s.in_part = true;
    s.part_bytes = 0;
    s.index = number;
    co_return multipart_part{&s, number};
}

Task<multipart_form> Multipart::collect(const multipart_limits& limits) {
    set_limits(limits);
    co_return co_await collect();
}

Task<multipart_form> Multipart::collect() {
    multipart_form form;
    const multipart_limits& lim = s_->limits;
    std::vector<char> buf(read_size);
    while (true) {
        std::optional<multipart_part> part = co_await next();
        if (!part) break;
        if (!part->is_file()) {
            std::string value = co_await part->read_all(lim.max_field_size);
            form.fields.emplace_back(part->name(), std::move(value));
            continue;
        }
        uploaded_file f;
        f.name_ = part->name();
        f.filename_ = part->filename();
        f.content_type_ = std::string{part->content_type()};
        f.headers_ = part->headers();
        std::optional<detail::file_sink> spool;  // removes its file if reading fails
        while (true) {
            std::size_t n = co_await part->read_some(buf);
            if (n == 0) break;
            if (!spool && f.memory_.size() + n > lim.spool_threshold) {
                spool.emplace(detail::file_sink::temporary(lim.temp_dir));
                spool->write(f.memory_);
                std::string{}.swap(f.memory_);
            }
            if (spool)
                spool->write({buf.data(), n});
            else
                f.memory_.append(buf.data(), n);
            f.size_ += n;
        }
        if (spool) {
            f.temp_path_ = spool->path();
            spool->keep();
        }
        form.files.push_back(std::move(f));
    }
    co_return form;
}

// ---- uploaded_file and multipart_form --------------------------------------------------------------------

uploaded_file::uploaded_file(uploaded_file&& other) noexcept
    : name_{std::move(other.name_)},
      filename_{std::move(other.filename_)},
      content_type_{std::move(other.content_type_)},
      headers_{std::move(other.headers_)},
      size_{other.size_},
      memory_{std::move(other.memory_)},
      temp_path_{std::move(other.temp_path_)} {
    other.temp_path_.clear();
}

uploaded_file& uploaded_file::operator=(uploaded_file&& other) noexcept {
    if (this != &other) {
        if (!temp_path_.empty()) {
            std::error_code ec;
            std::filesystem::remove(temp_path_, ec);
        }
        name_ = std::move(other.name_);
        filename_ = std::move(other.filename_);
        content_type_ = std::move(other.content_type_);
        headers_ = std::move(other.headers_);
        size_ = other.size_;
        memory_ = std::move(other.memory_);
        temp_path_ = std::move(other.temp_path_);
        other.temp_path_.clear();
    }
    return *this;
}

uploaded_file::~uploaded_file() {
    if (!temp_path_.empty()) {
        std::error_code ec;
        std::filesystem::remove(temp_path_, ec);
    }
}

std::string uploaded_file::contents() const {
    if (in_memory()) return memory_;
    std::ifstream in{temp_path_, std::ios::binary};
    if (!in) throw std::system_error{errno, std::generic_category(), "cannot read '" + temp_path_.string() + "'"};
    return std::string{std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{}};
}

void uploaded_file::save_as(const std::filesystem::path& dest) {
    if (in_memory()) {
        detail::file_sink file{dest};
        file.write(memory_);
        file.keep();
        return;
    }
    std::error_code ec;
    std::filesystem::rename(temp_path_, dest, ec);
    if (ec == std::errc::cross_device_link) {
        std::filesystem::copy_file(temp_path_, dest, std::filesystem::copy_options::overwrite_existing);
        std::filesystem::remove(temp_path_, ec);
        ec.clear();
    }
    if (ec) throw std::system_error{ec, "cannot move the upload to '" + dest.string() + "'"};
    temp_path_.clear();
}

std::optional<std::string_view> multipart_form::field(std::string_view name) const noexcept {
    for (const auto& [k, v] : fields)
        if (k == name) return std::string_view{v};
    return std::nullopt;
}

const uploaded_file* multipart_form::file(std::string_view name) const noexcept {
    for (const auto& f : files)
        if (f.name() == name) return &f;
    return nullptr;
}

uploaded_file* multipart_form::file(std::string_view name) noexcept {
    for (auto& f : files)
        if (f.name() == name) return &f;
    return nullptr;
}

}  // namespace zephyr::http
