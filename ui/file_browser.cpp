// file_browser.cpp: see file_browser.hpp.
#include "ui/file_browser.hpp"

#include <imgui.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "ui/i18n.hpp"

namespace quantlab::ui {

namespace fs = std::filesystem;

namespace {
bool wanted_file(const std::string& name) {
    auto ends = [&](const char* e) {
        const size_t n = std::strlen(e);
        return name.size() >= n && name.compare(name.size() - n, n, e) == 0;
    };
    return ends(".safetensors") || ends(".pth") || ends(".pt") || ends(".bin");
}

std::string human_size(uintmax_t b) {
    char buf[32];
    if (b >= (1u << 20)) std::snprintf(buf, sizeof buf, "%.1f MB", double(b) / double(1 << 20));
    else if (b >= 1024) std::snprintf(buf, sizeof buf, "%.0f KB", double(b) / 1024.0);
    else std::snprintf(buf, sizeof buf, "%u B", unsigned(b));
    return buf;
}
}  // namespace

void FileBrowser::open(const std::string& start_dir) {
    open_ = true;
    just_opened_ = true;
    chosen_.clear();
    std::error_code ec;
    std::string d = start_dir.empty() ? fs::current_path(ec).string() : start_dir;
    if (dir_.empty()) list(d);
    else list(dir_);
}

void FileBrowser::list(const std::string& dir) {
    std::error_code ec;
    fs::path p = fs::absolute(dir, ec).lexically_normal();
    std::vector<Entry> entries;
    fs::directory_iterator it(p, fs::directory_options::skip_permission_denied, ec), end;
    if (ec) {
        error_ = tr("Cannot open folder") + std::string(": ") + p.string() + " (" + ec.message() + ")";
        return;
    }
    for (; it != end; it.increment(ec)) {
        if (ec) break;
        Entry e;
        e.name = it->path().filename().string();
        if (e.name.empty() || e.name[0] == '.') continue;
        std::error_code ec2;
        e.dir = it->is_directory(ec2);
        if (!e.dir) {
            if (!all_files_ && !wanted_file(e.name)) continue;
            e.size = it->file_size(ec2);
        }
        entries.push_back(std::move(e));
    }
    std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
        if (a.dir != b.dir) return a.dir;
        return a.name < b.name;
    });
    entries_ = std::move(entries);
    dir_ = p.string();
    selected_ = -1;
    error_.clear();
    std::snprintf(path_buf_, sizeof path_buf_, "%s", dir_.c_str());
}

bool FileBrowser::draw(const char* title) {
    if (!open_) return false;
    if (just_opened_) {
        ImGui::OpenPopup(title);
        just_opened_ = false;
    }
    const ImVec2 ds = ImGui::GetIO().DisplaySize;
    ImGui::SetNextWindowSize(ImVec2(ds.x * 0.7f, ds.y * 0.7f), ImGuiCond_Appearing);
    ImGui::SetNextWindowPos(ImVec2(ds.x * 0.5f, ds.y * 0.5f), ImGuiCond_Appearing, ImVec2(0.5f, 0.5f));
    bool chosen = false;
    bool keep = true;
    if (ImGui::BeginPopupModal(title, &keep)) {
        if (ImGui::Button(tr("Up"))) list((fs::path(dir_).parent_path()).string());
        ImGui::SameLine();
        ImGui::SetNextItemWidth(-ImGui::GetFontSize() * 9);
        if (ImGui::InputText("##path", path_buf_, sizeof path_buf_, ImGuiInputTextFlags_EnterReturnsTrue)) {
            std::error_code ec;
            if (fs::is_directory(path_buf_, ec)) list(path_buf_);
            else if (fs::is_regular_file(path_buf_, ec)) chosen_ = path_buf_, chosen = true;
            else error_ = std::string(tr("No such file or folder")) + ": " + path_buf_;
        }
        ImGui::SameLine();
        if (ImGui::Checkbox(tr("all files"), &all_files_)) list(dir_);
        ImGui::TextDisabled("%s", tr("Weights (.safetensors, .pth) or CIFAR-10 batches (.bin)"));
        if (!error_.empty()) ImGui::TextColored(ImVec4(0.85f, 0.15f, 0.15f, 1), "%s", error_.c_str());
        const float footer = ImGui::GetFrameHeightWithSpacing() + ImGui::GetStyle().ItemSpacing.y;
        if (ImGui::BeginChild("##entries", ImVec2(0, -footer), true)) {
            for (int i = 0; i < int(entries_.size()); ++i) {
                const Entry& e = entries_[size_t(i)];
                std::string label = (e.dir ? "[" + e.name + "]" : e.name);
                if (ImGui::Selectable(label.c_str(), selected_ == i, ImGuiSelectableFlags_AllowDoubleClick | ImGuiSelectableFlags_SpanAllColumns)) {
                    selected_ = i;
                    if (ImGui::IsMouseDoubleClicked(0)) {
                        const std::string full = (fs::path(dir_) / e.name).string();
                        if (e.dir) {
                            list(full);
                            break;
                        }
                        chosen_ = full;
                        chosen = true;
                    }
                }
                if (!e.dir) {
                    ImGui::SameLine(ImGui::GetWindowContentRegionMax().x - ImGui::GetFontSize() * 5);
                    ImGui::TextDisabled("%s", human_size(e.size).c_str());
                }
            }
        }
        ImGui::EndChild();
        const bool can_open = selected_ >= 0 && selected_ < int(entries_.size());
        if (!can_open) ImGui::BeginDisabled();
        if (ImGui::Button(tr("Open"))) {
            const Entry& e = entries_[size_t(selected_)];
            const std::string full = (fs::path(dir_) / e.name).string();
            if (e.dir) list(full);
            else chosen_ = full, chosen = true;
        }
        if (!can_open) ImGui::EndDisabled();
        ImGui::SameLine();
        if (ImGui::Button(tr("Cancel")) || ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_Escape))) keep = false;
        if (chosen || !keep) ImGui::CloseCurrentPopup();
        ImGui::EndPopup();
    }
    if (chosen || !keep) open_ = false;
    return chosen;
}

}  // namespace quantlab::ui
