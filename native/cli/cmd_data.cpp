// cmd_data.cpp: `quantlab data fetch` (download the official CIFAR-10 binary archive with curl, check its
// published MD5, unpack into the data folder) and `quantlab data check` (is a folder complete?).
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>

#include "core/archive/archive.hpp"
#include "native/cli/commands.hpp"
#include "native/cli/common.hpp"

namespace quantlab::cli {

namespace {
namespace fs = std::filesystem;

std::string shell_quote(const std::string& s) {
    std::string q = "'";
    for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return q + "'";
}

// Unpacks and checks an archive already on disk; separate from the download so tests can drive it offline.
int install_archive(const std::string& archive, const std::string& dir) {
    Result<std::string> md5 = md5_file(archive);
    if (!md5.ok()) return fail("data fetch", md5.message());
    if (md5.value != kCifar10ArchiveMd5)
        return fail("data fetch", archive + ": MD5 " + md5.value + ", expected " + kCifar10ArchiveMd5 +
                                      " (a damaged or different download; delete it and run again)");
    // The archive holds cifar-10-batches-bin/...: unpack next to the target folder, which has that name.
    const fs::path parent = fs::path(dir).parent_path();
    std::error_code ec;
    fs::create_directories(parent, ec);
    if (Status s = extract_tar_gz(archive, parent.string()); !s) return fail("data fetch", s.message);
    if (Status s = verify_cifar10_dir(dir); !s) return fail("data fetch", s.message);
    std::printf("CIFAR-10 is ready in %s\n", dir.c_str());
    return 0;
}

int run_fetch(const std::string& data, const std::string& archive) {
    std::string dir = find_data_dir(data);
    if (fs::path(dir).filename() != "cifar-10-batches-bin") dir = (fs::path(dir) / "cifar-10-batches-bin").string();
    if (verify_cifar10_dir(dir).ok()) {
        std::printf("CIFAR-10 is already complete in %s\n", dir.c_str());
        return 0;
    }
    if (!archive.empty()) return install_archive(archive, dir);
    const std::string tmp = (fs::path(dir).parent_path() / "cifar-10-binary.tar.gz.part").string();
    std::error_code ec;
    fs::create_directories(fs::path(tmp).parent_path(), ec);
    std::printf("downloading %s\n     into %s\n", kCifar10ArchiveUrl, tmp.c_str());
    const std::string cmd = "curl -fL --retry 2 --progress-bar -o " + shell_quote(tmp) + " " + shell_quote(kCifar10ArchiveUrl);
    if (std::system(cmd.c_str()) != 0)
        return fail("data fetch", "download failed (is this machine online, and is curl installed?). Alternatively download "
                                  "cifar-10-binary.tar.gz yourself and run: quantlab data fetch --archive FILE");
    const int rc = install_archive(tmp, dir);
    fs::remove(tmp, ec);
    return rc;
}

int run_check(const std::string& data) {
    const std::string dir = find_data_dir(data);
    if (Status s = verify_cifar10_dir(dir); !s) return fail("data check", s.message);
    std::printf("%s: complete (5 training batches and the test batch)\n", dir.c_str());
    return 0;
}

}  // namespace

void add_data_commands(CLI::App& root, Commands& cmds) {
    CLI::App* data = root.add_subcommand("data", "Get or check the CIFAR-10 data folder");
    data->require_subcommand(1);
    auto dir = std::make_shared<std::string>(), archive = std::make_shared<std::string>();
    CLI::App* fetch = data->add_subcommand("fetch", "Download the official cifar-10-binary.tar.gz, check its MD5 and unpack it");
    fetch->add_option("--data", *dir, "target folder (default: $QUANTLAB_DATA, else ~/.cache/quantlab/cifar-10-batches-bin)");
    fetch->add_option("--archive", *archive, "use an already downloaded cifar-10-binary.tar.gz instead of downloading");
    cmds.emplace_back(fetch, [dir, archive] { return run_fetch(*dir, *archive); });
    auto cdir = std::make_shared<std::string>();
    CLI::App* check = data->add_subcommand("check", "Check that a data folder holds all six CIFAR-10 batch files");
    check->add_option("--data", *cdir, "folder to check");
    cmds.emplace_back(check, [cdir] { return run_check(*cdir); });
}

}  // namespace quantlab::cli
