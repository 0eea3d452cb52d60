// zephyr/core/error.hpp — exceptions that know which HTTP status they stand for.
//
// Modules that sit below http (db, storage, cache) cannot throw HttpError, yet some of their errors have an
// obvious answer for a client: a unique violation is a 409, a lost database a 503. Such an exception also
// derives from status_hint, and the framework's error mapping answers with that status when no on_error
// mapper of the app claims the exception first.
//
//     class unique_violation : public db::Error, public zephyr::status_hint {
//         int http_status() const noexcept override { return 409; }
//         const char* client_message() const noexcept override { return "the value already exists"; }
//     };
#pragma once

namespace zephyr {

/// Mixed into an exception type to suggest the HTTP status (and the text a client may see) for it.
class status_hint {
public:
    /// The HTTP status code to answer with, e.g. 409.
    virtual int http_status() const noexcept = 0;
    /// The `detail` sent to the client. The exception's what() goes to the log only.
    virtual const char* client_message() const noexcept = 0;

protected:
    status_hint() = default;
    status_hint(const status_hint&) = default;
    status_hint& operator=(const status_hint&) = default;
    ~status_hint() = default;
};

}  // namespace zephyr
