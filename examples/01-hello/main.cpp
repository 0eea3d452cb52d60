// [hello]
#include <zephyr/zephyr.hpp>

int main() {
    zephyr::App app;
    app.get("/", [] { return "Hello, World!"; });
    app.run();
}
// [hello]
