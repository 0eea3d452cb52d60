// A chat: a page at / whose script joins a room over a WebSocket at /ws/{room}?name=..., and a hub service
// that relays every message to everyone in the room. The server runs several threads, so each member is kept
// as a websocket_sender, which hands the message to the member's own session to write.
#include <zephyr/zephyr.hpp>

#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

using namespace zephyr;

// [hub]
// The rooms and their members. Sessions on every server thread call it, so it locks.
class chat_hub {
public:
    void join(const std::string& room, http::websocket_sender member) {
        std::lock_guard lock{mutex_};
        rooms_[room].push_back(std::move(member));
    }
    void leave(const std::string& room, const http::websocket_sender& member) {
        std::lock_guard lock{mutex_};
        auto& members = rooms_[room];
        std::erase(members, member);
        if (members.empty()) rooms_.erase(room);
    }
    // Queues `text` for every member; a member whose session has ended is dropped.
    void broadcast(const std::string& room, const std::string& text) {
        std::lock_guard lock{mutex_};
        auto& members = rooms_[room];
        std::erase_if(members, [&](const http::websocket_sender& m) { return !m.send_text(text); });
    }
    std::size_t size(const std::string& room) {
        std::lock_guard lock{mutex_};
        auto it = rooms_.find(room);
        return it == rooms_.end() ? 0 : it->second.size();
    }

private:
    std::mutex mutex_;
    std::map<std::string, std::vector<http::websocket_sender>> rooms_;
};
// [hub]

struct who {
    std::string name = "anonymous";
};
BOOST_DESCRIBE_STRUCT(who, (), (name))

// [session]
// One member's session: join, relay each message to the room, leave.
Task<void> chat(WebSocket& ws, Path<std::string> room, Query<who> user, Inject<chat_hub> hub) {
    if (user->name.empty() || user->name.size() > 32) {
        co_await ws.close(close_code::policy_violation, "a name of 1 to 32 characters is required");
        co_return;
    }
    auto me = ws.sender();
    hub->join(*room, me);
    hub->broadcast(*room, user->name + " joined (" + std::to_string(hub->size(*room)) + " here)");
    while (auto msg = co_await ws.read()) {
        if (msg->is_text()) hub->broadcast(*room, user->name + ": " + std::string{msg->text()});
    }
    hub->leave(*room, me);
    hub->broadcast(*room, user->name + " left");
}
// [session]

constexpr const char* page = R"html(<!doctype html>
<html lang="en">
<meta charset="utf-8">
<title>Zephyr chat</title>
<style>
  body { font: 16px system-ui, sans-serif; max-width: 40rem; margin: 2rem auto; }
  #log { border: 1px solid #ccc; height: 20rem; overflow-y: auto; padding: .5rem; white-space: pre-wrap; }
  form { display: flex; gap: .5rem; margin-top: .5rem; } #text { flex: 1; }
</style>
<h1>Zephyr chat</h1>
<p><label>Room <input id="room" value="lobby"></label> <label>Name <input id="name" value="guest"></label>
   <button id="join">Join</button></p>
<div id="log"></div>
<form id="send"><input id="text" autocomplete="off" placeholder="Say something"><button>Send</button></form>
<script>
  let ws;
  const log = (line) => { const el = document.getElementById("log"); el.textContent += line + "\n"; el.scrollTop = el.scrollHeight; };
  document.getElementById("join").onclick = () => {
    if (ws) ws.close();
    const room = encodeURIComponent(document.getElementById("room").value);
    const name = encodeURIComponent(document.getElementById("name").value);
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    ws = new WebSocket(`${scheme}://${location.host}/ws/${room}?name=${name}`);
    ws.onmessage = (e) => log(e.data);
    ws.onclose = (e) => log(`-- disconnected (${e.code}${e.reason ? ": " + e.reason : ""})`);
  };
  document.getElementById("send").onsubmit = (e) => {
    e.preventDefault();
    const input = document.getElementById("text");
    if (ws && ws.readyState === WebSocket.OPEN && input.value) { ws.send(input.value); input.value = ""; }
  };
</script>
</html>
)html";

// [app]
App& make_app(App& app) {
    app.provide(std::make_shared<chat_hub>());
    app.get("/", [] { return Html{page}; });
    app.websocket("/ws/{room}", chat, {.name = "chat"}, {.max_message_size = 4096});
    return app;
}
// [app]

int main() {
    App app;
    make_app(app);
    app.run();
}
