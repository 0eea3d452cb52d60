// Helpers shared by the fuzz targets.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

/// Aborts (which libFuzzer reports as a crash, saving the input) when an invariant does not hold.
#define FUZZ_CHECK(cond)                                                                   \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            std::fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond); \
            std::abort();                                                                  \
        }                                                                                  \
    } while (false)

namespace zephyr_fuzz {

/// A small deterministic generator seeded from the input, for choices (split points, piece sizes) that
/// must be reproducible from the saved input alone.
class input_rng {
public:
    explicit input_rng(std::string_view data) {
        for (unsigned char c : data) state_ = (state_ ^ c) * 0x100000001b3ULL;  // FNV-1a
    }
    std::uint64_t next() {
        // splitmix64
        std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
    }
    /// A value in [lo, hi].
    std::size_t between(std::size_t lo, std::size_t hi) { return lo + static_cast<std::size_t>(next() % (hi - lo + 1)); }

private:
    std::uint64_t state_ = 0xcbf29ce484222325ULL;
};

/// True when `part` lies inside `whole` (string views into one buffer).
inline bool inside(std::string_view part, std::string_view whole) {
    return part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size();
}

}  // namespace zephyr_fuzz
