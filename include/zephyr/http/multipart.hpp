// zephyr/http/multipart.hpp — multipart/form-data request bodies (RFC 7578), read while they arrive.
//
// `Multipart` as the last handler parameter gives the parts of an HTML form with file inputs one at a time,
// each readable in pieces, so a file is written to disk as it arrives and never held in memory whole.
// `collect()` reads the whole form instead: fields as strings, files in memory when small and in a temporary
// file otherwise. `multipart_parser` is the incremental parser underneath, usable on its own.
//
//     app.post("/upload", [](zephyr::Multipart form) -> zephyr::Task<std::string> {
//         while (auto part = co_await form.next())
//             if (part->is_file()) co_await part->save_to("uploads/" + part->safe_filename());
//         co_return "saved\n";
//     }, {.max_body = 512ull << 20});
#pragma once

#include <zephyr/core/task.hpp>
#include <zephyr/http/extract/extractor.hpp>
#include <zephyr/http/headers.hpp>
#include <zephyr/http/request.hpp>
#include <zephyr/http/status.hpp>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace zephyr::http {

/// What a multipart body may contain. Exceeding a limit is a 413 naming the part. The body as a whole is
/// limited by the route's max_body (route_options), or the server's limits.max_body.
struct multipart_limits {
    std::size_t max_parts = 1000;              ///< Parts in one body.
    std::size_t max_header_bytes = 8 * 1024;   ///< Header section of one part, CRLFs included.
    std::size_t max_field_size = 1024 * 1024;  ///< A part without a filename (a form field).
    std::uint64_t max_file_size = std::numeric_limits<std::uint64_t>::max();  ///< A part with a filename.
    /// collect(): a file larger than this goes to a temporary file instead of memory.
    std::size_t spool_threshold = 1024 * 1024;
    /// collect(): where temporary files go; the system's temporary directory (TMPDIR) when empty.
    std::filesystem::path temp_dir{};
};

/// The boundary of a `multipart/form-data; boundary=...` Content-Type (quoted or not). Throws HttpError 415
/// when the type is something else, 400 when the boundary is missing or not 1 to 70 valid characters.
std::string multipart_boundary(std::string_view content_type);

/// A file name a client sent, made safe to use as one path component: no directories ('/' and '\\' and what
/// precedes them), no control characters, no leading dots, no ':', at most 255 bytes. Empty when nothing
/// usable remains (for example "..").
std::string safe_filename(std::string_view raw);

/// The Content-Disposition of a part: its name, and its filename when it has one. `filename*` (RFC 5987,
/// UTF-8 or ISO-8859-1) wins over `filename`.
struct content_disposition {
    std::string type;                     ///< "form-data", lower case.
    std::optional<std::string> name;      ///< The field name.
    std::optional<std::string> filename;  ///< As sent; see safe_filename().
};
/// Parses a Content-Disposition field value. Nothing when it is malformed.
std::optional<content_disposition> parse_content_disposition(std::string_view value);

/// An incremental multipart parser. Give it the body in pieces of any size (prepare/commit or feed), then
/// call next() until it asks for more: it reports each part's start (with its headers), its data in pieces
/// (a boundary split across pieces is found), its end, and the end of the body. Preamble and epilogue are
/// skipped. Framing is strict: delimiter lines end in CRLF, header lines too (obsolete folding is unfolded).
///
///     multipart_parser p{boundary};
///     p.feed(bytes);            // or p.finish() at the end of the body
///     for (auto e = p.next(); e != multipart_parser::event::need_more; e = p.next()) { ... }
class multipart_parser {
public:
    enum class event {
        need_more,   ///< Feed more bytes (or call finish()).
        part_begin,  ///< A part starts; part_headers() holds its header fields.
        data,        ///< data() holds the next bytes of the current part.
        part_end,    ///< The current part is complete.
        done,        ///< The closing boundary was seen; the rest of the input is ignored.
        error,       ///< error_status() and error_message() say why; the parser stays in this state.
    };

    /// `boundary` as multipart_boundary() returns it (without the leading "--").
    explicit multipart_parser(std::string_view boundary, const multipart_limits& limits = {});

    /// Space for at least `n` more bytes; write into it and call commit(). Invalidates data().
    std::span<char> prepare(std::size_t n);
    /// Adds `n` bytes written into the span prepare() returned.
    void commit(std::size_t n) noexcept { end_ += n; }
    /// Copies `bytes` in (prepare and commit).
    void feed(std::string_view bytes);
    /// Says the body has ended: a body without its closing boundary then becomes an error.
    void finish() noexcept { finished_ = true; }

    /// The next event from the bytes given so far.
    event next();

    /// The current part's header fields (after part_begin, until the next part_begin).
    const headers& part_headers() const noexcept { return headers_; }
    /// The bytes of the last data event; valid until the next call of next(), prepare() or feed().
    std::string_view data() const noexcept { return data_; }
    /// Parts started so far.
    std::size_t parts() const noexcept { return parts_; }
    http::status error_status() const noexcept { return error_status_; }
    const std::string& error_message() const noexcept { return error_message_; }

private:
    enum class state { start, preamble, after_delimiter, dash, padding, delimiter_lf, headers, body, epilogue, failed };
    event fail(http::status s, std::string message);
    std::size_t available() const noexcept { return end_ - begin_; }
    bool parse_header_line(std::string_view line);

    std::string delimiter_;  // "\r\n--" + boundary
    multipart_limits limits_;
    std::unique_ptr<char[]> buf_;
    std::size_t cap_ = 0, begin_ = 0, end_ = 0;
    state state_ = state::start;
    bool finished_ = false;
    std::size_t parts_ = 0;
    std::size_t padding_ = 0;
    std::size_t header_bytes_ = 0;
    std::vector<std::pair<std::string, std::string>> fields_;
    headers headers_;
    std::string_view data_;
    http::status error_status_ = http::status::bad_request;
    std::string error_message_;
};

class Multipart;

/// One part of a Multipart body, valid until the next call of Multipart::next().
class multipart_part {
public:
    /// The field name (Content-Disposition `name`).
    const std::string& name() const noexcept;
    /// True when the part has a filename: a file input.
    bool is_file() const noexcept;
    /// The filename as the client sent it (empty when none); never use it as a path, see safe_filename().
    const std::string& filename() const noexcept;
    /// filename() reduced to one safe path component; see http::safe_filename().
    std::string safe_filename() const { return http::safe_filename(filename()); }
    /// The part's Content-Type, "text/plain" when absent (RFC 7578 §4.4).
    std::string_view content_type() const noexcept;
    /// Every header field of the part.
    const http::headers& headers() const noexcept;

    /// Reads the next bytes of the part into `buf`; 0 at its end. Throws HttpError 413 when the part grows
    /// past max_file_size (a file) or max_field_size (a field), 400 for a malformed or truncated body, and
    /// whatever reading the request body throws (408 ...).
    Task<std::size_t> read_some(std::span<char> buf);
    /// Reads the rest of the part. Throws HttpError 413 naming the part when it is longer than `max` bytes.
    Task<std::string> read_all(std::size_t max);
    /// Writes the rest of the part to `path` and returns its size, as BodyStream::save_to() does: through a
    /// hidden temporary file next to `path`, renamed into place (replacing any file there) once complete. On
    /// any failure (413, a failed read, std::system_error writing the file) the partial file is removed and
    /// `path` is left as it was.
    Task<std::uint64_t> save_to(std::filesystem::path path);

private:
    friend class Multipart;
    struct state;
    multipart_part(state* s, std::size_t index) noexcept : s_{s}, index_{index} {}
    state* s_;
    std::size_t index_;
};

/// A file part read by Multipart::collect(): in memory up to the spool threshold, in a temporary file above
/// it. The temporary file is removed when the object is destroyed, unless save_as() moved it away.
class uploaded_file {
public:
    uploaded_file() = default;
    uploaded_file(uploaded_file&& other) noexcept;
    uploaded_file& operator=(uploaded_file&& other) noexcept;
    uploaded_file(const uploaded_file&) = delete;
    uploaded_file& operator=(const uploaded_file&) = delete;
    ~uploaded_file();

    const std::string& name() const noexcept { return name_; }
    /// As sent by the client; see safe_filename().
    const std::string& filename() const noexcept { return filename_; }
    std::string safe_filename() const { return http::safe_filename(filename_); }
    const std::string& content_type() const noexcept { return content_type_; }
    const http::headers& headers() const noexcept { return headers_; }
    std::uint64_t size() const noexcept { return size_; }

    /// True when the content is held in memory (see memory()); false when it is in temp_path().
    bool in_memory() const noexcept { return temp_path_.empty(); }
    /// The content when in_memory(); empty otherwise.
    const std::string& memory() const noexcept { return memory_; }
    /// The temporary file holding the content, or an empty path when in_memory().
    const std::filesystem::path& temp_path() const noexcept { return temp_path_; }
    /// The whole content, read from the temporary file if need be. Throws std::system_error.
    std::string contents() const;
    /// Moves the content to `dest` (renaming the temporary file when possible, copying otherwise), replacing
    /// any file there. Afterwards the object no longer owns a temporary file. Throws std::system_error.
    void save_as(const std::filesystem::path& dest);

private:
    friend class Multipart;
    std::string name_, filename_, content_type_;
    http::headers headers_;
    std::uint64_t size_ = 0;
    std::string memory_;
    std::filesystem::path temp_path_;
};

/// A whole form read by Multipart::collect().
struct multipart_form {
    std::vector<std::pair<std::string, std::string>> fields;  ///< Parts without a filename, in order.
    std::vector<uploaded_file> files;                         ///< Parts with a filename, in order.

    /// The first field named `name`, or nothing.
    std::optional<std::string_view> field(std::string_view name) const noexcept;
    /// The first file part named `name`, or nullptr.
    const uploaded_file* file(std::string_view name) const noexcept;
    uploaded_file* file(std::string_view name) noexcept;
};

/// A multipart/form-data body, read part by part as it arrives. A streaming body extractor: the last handler
/// parameter; the handler runs before the body is read. Extraction checks the Content-Type: 415 when it is
/// not multipart/form-data, 400 without a valid boundary. Reading answers 400 for malformed framing, a part
/// without a name, a truncated body or one without its closing boundary, and 413 for an exceeded limit.
class Multipart {
public:
    static constexpr bool consumes_body = true;
    static constexpr bool streams_body = true;

    static Multipart extract(Request& req);

    Multipart(Multipart&&) noexcept;
    Multipart& operator=(Multipart&&) noexcept;
    ~Multipart();

    /// Replaces the limits (before the first next()).
    void set_limits(const multipart_limits& limits);
    const multipart_limits& limits() const noexcept;

    /// The next part, or nothing after the last one. Skips whatever of the previous part was not read.
    Task<std::optional<multipart_part>> next();
    /// Reads every remaining part with limits(): fields into strings, files into memory or temporary files.
    Task<multipart_form> collect();
    /// Sets the limits, then collect().
    Task<multipart_form> collect(const multipart_limits& limits);

private:
    explicit Multipart(std::unique_ptr<multipart_part::state> s) noexcept;
    std::unique_ptr<multipart_part::state> s_;
};

}  // namespace zephyr::http
