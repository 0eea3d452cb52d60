#include <zephyr/db/error.hpp>
#include <zephyr/db/url.hpp>

#include <gtest/gtest.h>

using namespace zephyr::db;

TEST(db_url, sqlite_forms) {
    auto abs = parse_url("sqlite:///var/lib/app.db");
    EXPECT_EQ(abs.dialect, dialect::sqlite);
    EXPECT_EQ(abs.database, "/var/lib/app.db");
    EXPECT_FALSE(abs.memory);
    auto rel = parse_url("sqlite://data/app.db");
    EXPECT_EQ(rel.database, "data/app.db");
    EXPECT_TRUE(parse_url("sqlite::memory:").memory);
    EXPECT_EQ(parse_url("sqlite::memory:").dialect, dialect::sqlite);
    auto q = parse_url("sqlite:///tmp/x.db?mode=ro");
    EXPECT_EQ(q.database, "/tmp/x.db");
    EXPECT_EQ(q.param("mode"), "ro");
}

TEST(db_url, postgres_with_escapes_and_params) {
    auto u = parse_url("postgresql://app%40corp:p%3Ass%2Fw@db.example.com:6432/orders?sslmode=require&application_name=api");
    EXPECT_EQ(u.dialect, dialect::postgresql);
    EXPECT_EQ(u.user, "app@corp");
    EXPECT_EQ(u.password, "p:ss/w");
    EXPECT_EQ(u.host, "db.example.com");
    EXPECT_EQ(u.port, 6432);
    EXPECT_EQ(u.database, "orders");
    EXPECT_EQ(u.param("sslmode"), "require");
    EXPECT_EQ(u.param("application_name"), "api");
    EXPECT_EQ(u.param("missing", "x"), "x");
    EXPECT_EQ(parse_url("postgres://h/db").dialect, dialect::postgresql);
    EXPECT_EQ(parse_url("postgres://h/db").port, 0);
}

TEST(db_url, mysql_and_mariadb) {
    EXPECT_EQ(parse_url("mysql://u:p@127.0.0.1:3306/app").dialect, dialect::mysql);
    auto m = parse_url("mariadb://u@localhost/app");
    EXPECT_EQ(m.dialect, dialect::mysql);
    EXPECT_EQ(m.user, "u");
    EXPECT_EQ(m.password, "");
}

TEST(db_url, redacted_hides_the_password) {
    auto u = parse_url("postgresql://ada:s3cret@h:5432/db");
    EXPECT_EQ(u.redacted(), "postgresql://ada:***@h:5432/db");
    EXPECT_EQ(u.redacted().find("s3cret"), std::string::npos);
}

TEST(db_url, bad_urls_say_why_without_the_password) {
    const char* cases[] = {"", "nonsense", "oracle://u:secretpw@h/db", "postgresql://u:secretpw@h:99999/db",
                           "postgresql://u:secretpw@h:12x/db", "postgresql://u:secretpw@h", "mysql:///db",
                           "sqlite://", "postgresql://u:secretpw@h/a/b"};
    for (const char* c : cases) {
        try {
            (void)parse_url(c);
            ADD_FAILURE() << "accepted: " << c;
        } catch (const Error& e) {
            EXPECT_EQ(e.kind(), errc::bad_url) << c;
            EXPECT_NE(std::string{e.what()}.find("database URL"), std::string::npos) << e.what();
            EXPECT_EQ(std::string{e.what()}.find("secretpw"), std::string::npos) << e.what();
        }
    }
}

TEST(db_url, query_parameters_are_decoded_and_fragments_refused) {
    auto u = parse_url("postgresql://h/db?application_name=my%20api&options=-c+x%3D1&flag");
    EXPECT_EQ(u.param("application_name"), "my api");
    EXPECT_EQ(u.param("options"), "-c x=1");
    EXPECT_EQ(u.params.back().first, "flag");
    EXPECT_EQ(parse_url("sqlite:///tmp/a.db?mode=r%6F").param("mode"), "ro");
    for (const char* c : {"postgresql://h/db?#x", "postgresql://h/db#x", "sqlite:///var/?#pp.db", "postgresql://h/db?a=%zz",
                          "sqlite:///a.db?x=%4"}) {
        try {
            (void)parse_url(c);
            ADD_FAILURE() << "accepted: " << c;
        } catch (const Error& e) {
            EXPECT_EQ(e.kind(), errc::bad_url) << c;
        }
    }
}
