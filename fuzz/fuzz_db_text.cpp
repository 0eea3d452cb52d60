// Fuzzes the db module's text parsers. The first byte picks one: placeholder scanning (the three scanners
// agree on the count, and translation only ever shrinks `??` or grows `?` into `$n`), connection URLs (a
// URL either parses or fails with errc::bad_url, and its redacted form never shows the password) or
// timestamps (what parses formats and parses back to the same instant).
#include "fuzz_check.hpp"

#include "db/sql_text.hpp"

#include <zephyr/db/error.hpp>
#include <zephyr/db/url.hpp>
#include <zephyr/db/value.hpp>

#include <cstdint>
#include <string>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const int mode = data[0] % 3;
    const std::string_view text{reinterpret_cast<const char*>(data + 1), size - 1};
    namespace db = zephyr::db;
    if (mode == 0) {
        const std::size_t count = db::detail::count_placeholders(text);
        std::size_t numbered = 0, plain = 0;
        const std::string with_numbers = db::detail::numbered_placeholders(text, numbered);
        const std::string with_marks = db::detail::plain_placeholders(text, plain);
        FUZZ_CHECK(numbered == count);
        FUZZ_CHECK(plain == count);
        FUZZ_CHECK(with_marks.size() <= text.size());
        FUZZ_CHECK(with_numbers.size() >= with_marks.size());
        std::size_t mysql = 0;
        const std::string mysql_marks = db::detail::plain_placeholders(text, mysql, db::detail::sql_syntax::mysql);
        FUZZ_CHECK(mysql == db::detail::count_placeholders(text, db::detail::sql_syntax::mysql));
        FUZZ_CHECK(mysql_marks.size() <= text.size());
    } else if (mode == 1) {
        try {
            const db::connection_url u = db::parse_url(text);
            const std::string shown = u.redacted();
            if (u.password.size() >= 4 && u.dialect != db::dialect::sqlite)
                FUZZ_CHECK(shown.find(":***@") != std::string::npos);
            FUZZ_CHECK(u.dialect != db::dialect::sqlite || u.memory || !u.database.empty());
        } catch (const db::Error& e) {
            FUZZ_CHECK(e.kind() == db::errc::bad_url);
        }
    } else {
        const auto t = db::parse_timestamp(text);
        if (t) {
            const std::string again = db::format_timestamp(*t);
            FUZZ_CHECK(db::parse_timestamp(again) == t);
        }
    }
    return 0;
}
