// examples/03-uploads, driven through the in-process client: what its documentation promises.
#include <gtest/gtest.h>  // before the example's `using namespace zephyr`, which makes `testing` ambiguous

#define ZEPHYR_EXAMPLE_NO_MAIN
#include "../../examples/03-uploads/main.cpp"

#include <zephyr/testing.hpp>

#include <unistd.h>

namespace {

struct uploads_dir {
    fs::path path = fs::temp_directory_path() / ("zephyr-uploads-example-" + std::to_string(::getpid()));
    uploads_dir() { fs::remove_all(path); }
    ~uploads_dir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
};

// [testing]
TEST(uploads_example, saves_an_uploaded_file) {
    uploads_dir dir;
    App app;
    zephyr::testing::Client client{make_app(app, dir.path)};
    auto res = client.post_multipart("/upload", zephyr::testing::multipart{}
                                                    .field("note", "holiday")
                                                    .file("files", "cat.jpg", "image/jpeg", "meow"));
    EXPECT_EQ(res.status(), 200);
    EXPECT_EQ(fs::file_size(dir.path / "cat.jpg"), 4u);
}
// [testing]

TEST(uploads_example, form_upload_and_listing) {
    uploads_dir dir;
    App app;
    zephyr::testing::Client client{make_app(app, dir.path)};
    auto page = client.get("/");
    EXPECT_EQ(page.status(), 200);
    EXPECT_NE(page.text().find("enctype=\"multipart/form-data\""), std::string::npos);

    auto res = client.post_multipart("/upload", zephyr::testing::multipart{}
                                                    .field("note", "<b>holiday</b>")
                                                    .file("files", "../../etc/cat.jpg", "image/jpeg", "meow")
                                                    .file("files", "", "application/octet-stream", "")
                                                    .file("files", "dog <1>.txt", "text/plain", "woof!"));
    EXPECT_EQ(res.status(), 200) << res.text();
    EXPECT_NE(res.text().find("Note: &lt;b&gt;holiday&lt;/b&gt;"), std::string::npos) << res.text();
    EXPECT_NE(res.text().find("<li>cat.jpg (4 bytes)"), std::string::npos) << res.text();
    EXPECT_NE(res.text().find("<li>dog _1_.txt (5 bytes)"), std::string::npos) << res.text();
    EXPECT_TRUE(fs::exists(dir.path / "cat.jpg"));
    EXPECT_FALSE(fs::exists(dir.path.parent_path() / "etc"));

    auto list = client.get("/files").text();
    EXPECT_LT(list.find("cat.jpg (4 bytes)"), list.find("dog _1_.txt (5 bytes)")) << list;

    auto put = client.put("/files/..%2Fnotes.txt", "plain text");
    EXPECT_EQ(put.status(), 201);
    EXPECT_EQ(put.text(), "10 bytes\n");
    EXPECT_TRUE(fs::exists(dir.path / "notes.txt"));
    EXPECT_EQ(client.put("/files/..", "x").status(), 400);

    auto long_note = client.post_multipart("/upload", zephyr::testing::multipart{}.field("note", std::string(1001, 'n')));
    EXPECT_EQ(long_note.status(), 413);
}

}  // namespace
