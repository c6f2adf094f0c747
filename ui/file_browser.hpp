// file_browser.hpp: a small ImGui file dialog for the desktop app (no file-dialog library is packaged):
// a path field, the folder's entries (folders first), a filter on the file ending, Open and Cancel.
// It only picks a path; App reads the file and tells weights from data by content.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace quantlab::ui {

class FileBrowser {
public:
    void open(const std::string& start_dir);
    bool is_open() const { return open_; }
    // Draws the dialog while open. Returns true in the frame a file is chosen; then path() names it.
    bool draw(const char* title);
    const std::string& path() const { return chosen_; }

private:
    struct Entry {
        std::string name;
        bool dir = false;
        uintmax_t size = 0;
    };
    void list(const std::string& dir);

    bool open_ = false, just_opened_ = false;
    bool all_files_ = false;
    std::string dir_, chosen_, error_;
    std::vector<Entry> entries_;
    int selected_ = -1;
    char path_buf_[1024] = {};
};

}  // namespace quantlab::ui
