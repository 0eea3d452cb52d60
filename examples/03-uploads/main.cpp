// File uploads: an HTML form that posts multipart/form-data, a handler that streams every file to disk under
// a safe name while it arrives (an upload is never held in memory whole), and a page listing what is there.
//
//     make run EXAMPLE=uploads           # then open http://127.0.0.1:8080/
//     curl -F note=holiday -F files=@cat.jpg -F files=@dog.jpg localhost:8080/upload
//     curl -T notes.txt localhost:8080/files/notes.txt
//     curl localhost:8080/files
//
// Files go to ./uploads, or to the directory in UPLOAD_DIR.
#include <zephyr/zephyr.hpp>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>

using namespace zephyr;
namespace fs = std::filesystem;

namespace {

// Html sends its text as it is: anything from a client or the disk is escaped first.
std::string escape(std::string_view text) {
    std::string out;
    for (char c : text) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            default: out += c;
        }
    }
    return out;
}

// [form]
constexpr std::string_view form_page = R"(<!doctype html>
<meta charset="utf-8">
<title>Uploads</title>
<h1>Upload files</h1>
<form method="post" action="/upload" enctype="multipart/form-data">
  <p><input name="note" placeholder="a note">
  <p><input type="file" name="files" multiple>
  <p><button>Upload</button>
</form>
<p><a href="/files">Uploaded files</a>
)";
// [form]

}  // namespace

App& make_app(App& app, const fs::path& dir) {
    fs::create_directories(dir);
    app.get("/", [] { return Html{std::string{form_page}}; });

    // [upload]
    // Multipart streams: the handler runs as soon as the request head is in and reads the parts as they
    // arrive, so max_body can be far above what should ever sit in memory.
    app.post("/upload", [dir](Multipart form) -> Task<Html> {
        std::string note, saved;
        while (auto part = co_await form.next()) {
            if (!part->is_file()) {
                if (part->name() == "note") note = co_await part->read_all(1000);  // 413 when longer
                continue;
            }
            std::string name = part->safe_filename();  // "../../etc/passwd" becomes "passwd"
            if (name.empty()) continue;                // an empty file input sends filename=""
            std::uint64_t size = co_await part->save_to(dir / name);
            saved += "<li>" + escape(name) + " (" + std::to_string(size) + " bytes)\n";
        }
        co_return Html{"<!doctype html>\n<title>Uploaded</title>\n<p>Note: " + escape(note) + "\n<ul>\n" + saved +
                       "</ul>\n<p><a href=\"/files\">All files</a>\n"};
    }, {.max_body = std::uint64_t{1} << 30});
    // [upload]

    // [raw]
    // BodyStream is the body as it arrives, for clients that send a file as it is: curl -T cat.jpg host/files/
    app.put("/files/{name}", [dir](Path<std::string> name, BodyStream body) -> Task<Response> {
        std::string safe = http::safe_filename(*name);
        if (safe.empty()) throw HttpError{status::bad_request, "not a usable file name"};
        std::uint64_t size = co_await body.save_to(dir / safe);
        co_return Response::text(std::to_string(size) + " bytes\n", status::created);
    }, {.max_body = std::uint64_t{1} << 30});
    // [raw]

    app.get("/files", [dir] {
        std::map<std::string, std::uintmax_t> files;  // sorted by name
        for (const auto& entry : fs::directory_iterator{dir})
            if (auto name = entry.path().filename().string(); entry.is_regular_file() && name.front() != '.')
                files[name] = entry.file_size();  // (a file still arriving is a hidden ".NAME.zephyr-XXXXXX")
        std::string list;
        for (const auto& [name, size] : files) list += "<li>" + escape(name) + " (" + std::to_string(size) + " bytes)\n";
        return Html{"<!doctype html>\n<title>Files</title>\n<ul>\n" + list + "</ul>\n<p><a href=\"/\">Upload more</a>\n"};
    });
    return app;
}

#ifndef ZEPHYR_EXAMPLE_NO_MAIN
int main(int argc, char** argv) {
    const char* dir = std::getenv("UPLOAD_DIR");
    App app;
    return make_app(app, dir != nullptr ? dir : "uploads").run(argc, argv);
}
#endif
