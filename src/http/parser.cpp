#include "http/parser.hpp"

#include <algorithm>
#include <array>
#include <cstring>

namespace zephyr::http::detail {
namespace {

constexpr std::array<bool, 256> make_tchar_table() {
    std::array<bool, 256> t{};
    for (int c = '0'; c <= '9'; ++c) t[c] = true;
    for (int c = 'a'; c <= 'z'; ++c) t[c] = true;
    for (int c = 'A'; c <= 'Z'; ++c) t[c] = true;
    for (char c : std::string_view{"!#$%&'*+-.^_`|~"}) t[static_cast<unsigned char>(c)] = true;
    return t;
}
constexpr auto tchar_table = make_tchar_table();

// field-vchar / SP / HTAB / obs-text: everything but CTLs (and DEL).
constexpr std::array<bool, 256> make_value_table() {
    std::array<bool, 256> t{};
    for (int c = 0x20; c < 0x7F; ++c) t[c] = true;
    for (int c = 0x80; c < 0x100; ++c) t[c] = true;
    t['\t'] = true;
    return t;
}
constexpr auto value_table = make_value_table();

// request-target characters: visible ASCII; obs-text is not allowed in a target.
bool is_target_char(unsigned char c) { return c > 0x20 && c < 0x7F; }

parse_status fail(parse_error& err, http::status s, std::string_view message) {
    err.code = s;
    err.message = message;
    return parse_status::error;
}

// Parses a Content-Length value: digits, or a list of identical digit strings ("5, 5").
bool parse_content_length(std::string_view v, std::uint64_t& out) {
    bool any = false;
    std::uint64_t first = 0;
    while (true) {
        while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
        std::uint64_t n = 0;
        std::size_t digits = 0;
        while (!v.empty() && v.front() >= '0' && v.front() <= '9') {
            if (n > (UINT64_MAX - 9) / 10) return false;
            n = n * 10 + static_cast<std::uint64_t>(v.front() - '0');
            v.remove_prefix(1);
            ++digits;
        }
        if (digits == 0) return false;
        if (any && n != first) return false;
        first = n;
        any = true;
        while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
        if (v.empty()) break;
        if (v.front() != ',') return false;
        v.remove_prefix(1);
    }
    out = first;
    return true;
}

}  // namespace

bool is_tchar(unsigned char c) noexcept { return tchar_table[c]; }

parse_status parse_request_head(std::string_view buf, const parser_limits& limits, request_head& head,
                                header_view& headers, parse_error& err, std::size_t& scan_from) {
    // RFC 9112 §2.2: ignore empty lines before the request line.
    std::size_t start = 0;
    while (start + 1 < buf.size() && buf[start] == '\r' && buf[start + 1] == '\n' && start < 8) start += 2;

    const char* base = buf.data();
    std::size_t from = scan_from < start ? start : scan_from;
    const void* found = nullptr;
    // Find CR LF CR LF by jumping between LFs with memchr: faster than glibc's generic memmem for heads.
    for (const char* p = base + from + 3; p < base + buf.size();) {
        const char* lf = static_cast<const char*>(memchr(p, '\n', static_cast<std::size_t>(base + buf.size() - p)));
        if (lf == nullptr) break;
        if (lf[-1] == '\r' && lf[-2] == '\n' && lf[-3] == '\r') {
            found = lf - 3;
            break;
        }
        p = lf + 1;
    }
    if (found == nullptr) {
        // Every line of a head ends in CRLF, so an LF without a CR before it can never become valid. Without
        // this check a head whose lines end in bare LFs would never be complete: the connection would wait for
        // CRLF CRLF until a size limit or the header timeout instead of getting its 400. Only the bytes that
        // are new since the last call are searched, which keeps incremental parsing linear.
        for (const char* lf = base + std::min(from, buf.size());
             (lf = static_cast<const char*>(memchr(lf, '\n', static_cast<std::size_t>(base + buf.size() - lf)))) != nullptr;
             ++lf) {
            if (lf == base || lf[-1] != '\r') return fail(err, status::bad_request, "bare LF in request head");
        }
        std::string_view pending = buf.substr(start);
        std::size_t line_end = pending.find("\r\n");
        // The limits below must not reject a partial head that would be accepted once complete, or the outcome
        // would depend on how the bytes were split into reads. A partial request line may end with the CR of a
        // line of exactly the maximum length; a partial header section may end with the CR of the final empty
        // line, which the complete check does not count (nor the request line's CRLF).
        if (line_end == std::string_view::npos) {
            if (pending.size() > limits.max_request_line + 1)
                return fail(err, status::uri_too_long, "request line too long");
        } else if (line_end > limits.max_request_line) {
            return fail(err, status::uri_too_long, "request line too long");
        } else if (pending.size() - line_end - 2 > limits.max_header_bytes + 1) {
            return fail(err, status::request_header_fields_too_large, "header section too large");
        }
        scan_from = buf.size() >= 3 ? buf.size() - 3 : 0;
        return parse_status::incomplete;
    }
    const std::size_t head_end = static_cast<std::size_t>(static_cast<const char*>(found) - base) + 4;

    // ---- request line ------------------------------------------------------------------------------------
    const char* p = base + start;
    const char* line_end = static_cast<const char*>(memchr(p, '\n', head_end - start));  // always found
    if (line_end == p || line_end[-1] != '\r') return fail(err, status::bad_request, "malformed request line");
    if (static_cast<std::size_t>(line_end - 1 - p) > limits.max_request_line)
        return fail(err, status::uri_too_long, "request line too long");
    const char* le = line_end - 1;  // the CR

    const char* m = p;
    while (p < le && tchar_table[static_cast<unsigned char>(*p)]) ++p;
    if (p == m || p == le || *p != ' ') return fail(err, status::bad_request, "malformed method");
    head.method_name = std::string_view{m, static_cast<std::size_t>(p - m)};
    head.method = parse_method(head.method_name);
    ++p;
    const char* t = p;
    while (p < le && is_target_char(static_cast<unsigned char>(*p))) ++p;
    if (p == t || p == le || *p != ' ') return fail(err, status::bad_request, "malformed request target");
    head.target = std::string_view{t, static_cast<std::size_t>(p - t)};
    ++p;
    std::string_view version{p, static_cast<std::size_t>(le - p)};
    if (version == "HTTP/1.1") {
        head.version_minor = 1;
    } else if (version == "HTTP/1.0") {
        head.version_minor = 0;
    } else if (version.size() == 8 && version.substr(0, 7) == "HTTP/1." && version[7] >= '2' && version[7] <= '9') {
        // RFC 9110 §6.2: a later 1.x minor version is answered as the highest 1.x we implement.
        head.version_minor = 1;
    } else if (version.size() == 8 && version.substr(0, 5) == "HTTP/" && version[5] >= '0' && version[5] <= '9' &&
               version[6] == '.' && version[7] >= '0' && version[7] <= '9') {
        return fail(err, status::http_version_not_supported, "only HTTP/1.0 and HTTP/1.1 are supported");
    } else {
        return fail(err, status::bad_request, "malformed HTTP version");
    }
    if (head.target[0] != '/' && head.target != "*" && head.method != method::connect &&
        head.target.find("://") == std::string_view::npos)
        return fail(err, status::bad_request, "malformed request target");

    // ---- header fields -----------------------------------------------------------------------------------
    p = line_end + 1;
    const char* section_begin = p;
    const char* end = base + head_end - 2;  // the final empty line's CR
    if (static_cast<std::size_t>(end - section_begin) > limits.max_header_bytes)
        return fail(err, status::request_header_fields_too_large, "header section too large");

    headers.clear();
    bool connection_close = false, connection_keep_alive = false, has_te = false;
    int host_count = 0;
    head.content_length.reset();
    head.chunked = false;
    head.expect_continue = false;

    while (p < end) {
        if (*p == ' ' || *p == '\t') return fail(err, status::bad_request, "obsolete line folding is not allowed");
        const char* name_begin = p;
        while (tchar_table[static_cast<unsigned char>(*p)]) ++p;
        if (p == name_begin || *p != ':')
            return fail(err, status::bad_request, "malformed header field name");
        std::string_view name{name_begin, static_cast<std::size_t>(p - name_begin)};
        ++p;
        while (*p == ' ' || *p == '\t') ++p;
        const char* value_begin = p;
        while (value_table[static_cast<unsigned char>(*p)]) ++p;
        if (*p != '\r' || p[1] != '\n') return fail(err, status::bad_request, "invalid character in header value");
        const char* value_end = p;
        while (value_end > value_begin && (value_end[-1] == ' ' || value_end[-1] == '\t')) --value_end;
        std::string_view value{value_begin, static_cast<std::size_t>(value_end - value_begin)};
        p += 2;

        if (headers.size() >= limits.max_headers)
            return fail(err, status::request_header_fields_too_large, "too many header fields");
        headers.add(name, value);

        // Fields that frame the message or the connection.
        switch (name.size()) {
            case 4:
                if (iequals(name, "host")) ++host_count;
                break;
            case 6:
                if (iequals(name, "expect")) {
                    if (!iequals(value, "100-continue"))
                        return fail(err, status::expectation_failed, "only 'Expect: 100-continue' is supported");
                    head.expect_continue = true;
                }
                break;
            case 10:
                if (iequals(name, "connection")) {
                    if (has_token(value, "close")) connection_close = true;
                    if (has_token(value, "keep-alive")) connection_keep_alive = true;
                }
                break;
            case 14:
                if (iequals(name, "content-length")) {
                    std::uint64_t n = 0;
                    if (!parse_content_length(value, n)) return fail(err, status::bad_request, "invalid Content-Length");
                    if (head.content_length && *head.content_length != n)
                        return fail(err, status::bad_request, "conflicting Content-Length fields");
                    head.content_length = n;
                }
                break;
            case 17:
                if (iequals(name, "transfer-encoding")) {
                    has_te = true;
                    std::string_view list = value;
                    while (true) {
                        auto comma = list.find(',');
                        std::string_view coding = list.substr(0, comma);
                        while (!coding.empty() && (coding.front() == ' ' || coding.front() == '\t')) coding.remove_prefix(1);
                        while (!coding.empty() && (coding.back() == ' ' || coding.back() == '\t')) coding.remove_suffix(1);
                        if (!coding.empty()) {
                            if (!iequals(coding, "chunked")) {
                                // RFC 9112 §6.3: when chunked is not the final coding of a request its body
                                // length cannot be determined, which is a 400 whatever the later coding is.
                                // Only a coding we do not know before chunked is a 501.
                                if (head.chunked)
                                    return fail(err, status::bad_request, "chunked is not the final transfer coding");
                                return fail(err, status::not_implemented, "unsupported transfer coding");
                            }
                            if (head.chunked) return fail(err, status::bad_request, "chunked applied twice");
                            head.chunked = true;
                        }
                        if (comma == std::string_view::npos) break;
                        list.remove_prefix(comma + 1);
                    }
                }
                break;
            default: break;
        }
    }

    if (has_te) {
        if (head.content_length)
            return fail(err, status::bad_request, "both Content-Length and Transfer-Encoding are present");
        if (head.version_minor == 0)
            return fail(err, status::bad_request, "Transfer-Encoding is not allowed in HTTP/1.0");
        if (!head.chunked) return fail(err, status::bad_request, "Transfer-Encoding without chunked");
    }
    if (head.version_minor == 1 && host_count != 1)
        return fail(err, status::bad_request, host_count == 0 ? "missing Host header" : "more than one Host header");

    head.keep_alive = head.version_minor == 1 ? !connection_close : (connection_keep_alive && !connection_close);
    head.size = head_end;
    scan_from = 0;
    return parse_status::complete;
}

chunked_decoder::result chunked_decoder::feed(std::string_view in, std::size_t& consumed, std::string& out,
                                              std::uint64_t max_body, const parser_limits& limits, parse_error& err) {
    auto error = [&](http::status s, std::string_view msg) {
        err.code = s;
        err.message = msg;
        return result::error;
    };
    std::size_t i = 0;
    const std::size_t n = in.size();
    while (i < n) {
        char c = in[i];
        switch (state_) {
            case state::size: {
                int d = hex_digit(c);
                if (d >= 0) {
                    if (++digits_ > 15) return error(status::bad_request, "chunk size too large");
                    remaining_ = remaining_ * 16 + static_cast<std::uint64_t>(d);
                    ++i;
                    break;
                }
                if (digits_ == 0) return error(status::bad_request, "malformed chunk size");
                if (c == '\r') {
                    state_ = state::size_lf;
                } else if (c == ';' || c == ' ' || c == '\t') {
                    state_ = state::ext;
                } else {
                    return error(status::bad_request, "malformed chunk size");
                }
                ++i;
                break;
            }
            case state::ext:
                if (c == '\r') {
                    state_ = state::size_lf;
                } else if (c == '\n' || (static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7F) {
                    return error(status::bad_request, "invalid character in chunk extension");
                }
                if (++line_bytes_ > limits.max_chunk_line) return error(status::bad_request, "chunk extension too long");
                ++i;
                break;
            case state::size_lf:
                if (c != '\n') return error(status::bad_request, "malformed chunk size line");
                ++i;
                digits_ = 0;
                line_bytes_ = 0;
                if (remaining_ == 0) {
                    state_ = state::trailer_start;
                } else {
                    if (out.size() + remaining_ > max_body) return error(status::payload_too_large, "request body too large");
                    state_ = state::data;
                }
                break;
            case state::data: {
                std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, n - i));
                out.append(in.data() + i, take);
                i += take;
                remaining_ -= take;
                if (remaining_ == 0) state_ = state::data_cr;
                break;
            }
            case state::data_cr:
                if (c != '\r') return error(status::bad_request, "chunk data not followed by CRLF");
                state_ = state::data_lf;
                ++i;
                break;
            case state::data_lf:
                if (c != '\n') return error(status::bad_request, "chunk data not followed by CRLF");
                state_ = state::size;
                ++i;
                break;
            case state::trailer_start:
                if (c == '\r') {
                    state_ = state::end_lf;
                    ++i;
                    break;
                }
                if (c == ' ' || c == '\t') return error(status::bad_request, "obsolete line folding in trailer");
                state_ = state::trailer;
                break;
            case state::trailer:
                if (c == '\r') {
                    state_ = state::trailer_lf;
                } else if (c == '\n' || (static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7F) {
                    return error(status::bad_request, "invalid character in trailer field");
                }
                if (++trailer_bytes_ > limits.max_trailer_bytes) return error(status::request_header_fields_too_large, "trailer section too large");
                ++i;
                break;
            case state::trailer_lf:
                if (c != '\n') return error(status::bad_request, "bare CR in trailer field");
                state_ = state::trailer_start;
                ++i;
                break;
            case state::end_lf:
                if (c != '\n') return error(status::bad_request, "malformed end of chunked body");
                state_ = state::done;
                ++i;
                consumed = i;
                return result::done;
            case state::done: consumed = i; return result::done;
        }
    }
    consumed = i;
    return state_ == state::done ? result::done : result::need_more;
}

}  // namespace zephyr::http::detail
