// Records the stack of every throw while an app runs in debug mode (see debug_page.cpp).
//
// The C++ runtime calls __cxa_throw (Itanium C++ ABI) for each throw expression. This definition takes
// precedence over the runtime's, records the stack when debug mode is on, and hands over to the runtime's own
// __cxa_throw. Without debug mode the cost is one relaxed atomic load per throw. This file must not include
// <cxxabi.h>, whose declaration of __cxa_throw would conflict with this definition.
#include <dlfcn.h>

#include <atomic>
#include <cstdlib>
#include <typeinfo>

namespace zephyr::http::detail {
extern std::atomic<int> capturing_throws;
void record_throw(void* object) noexcept;
// Referenced by enable_throw_traces() so that the linker always takes this file from the static library, even
// when another library (a sanitizer runtime) defines __cxa_throw too.
extern const bool throw_hook_linked = true;
}  // namespace zephyr::http::detail

extern "C" {
[[noreturn]] void __cxa_throw(void* object, std::type_info* type, void (*destructor)(void*)) {
    using real_throw = void (*)(void*, std::type_info*, void (*)(void*));
    static const real_throw real = reinterpret_cast<real_throw>(dlsym(RTLD_NEXT, "__cxa_throw"));
    if (zephyr::http::detail::capturing_throws.load(std::memory_order_relaxed) > 0)
        zephyr::http::detail::record_throw(object);
    real(object, type, destructor);
    std::abort();  // not reached: the runtime's __cxa_throw does not return
}
}
