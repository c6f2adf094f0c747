// cmd_data.cpp: `quantlab data fetch` (download the official CIFAR-10 or, with --dataset cifar100, CIFAR-100
// binary archive with curl, check its published MD5, unpack into the data folder) and `quantlab data check`
// (is a folder complete?).
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
int install_archive(const std::string& archive, const std::string& dir, const DatasetInfo& ds) {
    Result<std::string> md5 = md5_file(archive);
    if (!md5.ok()) return fail("data fetch", md5.message());
    if (md5.value != ds.archive_md5)
        return fail("data fetch", archive + ": MD5 " + md5.value + ", expected " + ds.archive_md5 + " for the " + ds.title +
                                      " binary archive (a damaged or different download; delete it and run again)");
    // The archive holds <folder>/...: unpack next to the target folder, which has that name.
    const fs::path parent = fs::path(dir).parent_path();
    std::error_code ec;
    fs::create_directories(parent, ec);
    if (Status s = extract_tar_gz(archive, parent.string(), std::string(ds.folder) + "/"); !s) return fail("data fetch", s.message);
    if (Status s = verify_dataset_dir(dir, ds.id); !s) return fail("data fetch", s.message);
    std::printf("%s is ready in %s\n", ds.title, dir.c_str());
    return 0;
}

int run_fetch(const std::string& data, const std::string& archive, const DatasetInfo& ds) {
    std::string dir = find_dataset_dir(data, ds.id);
    if (fs::path(dir).filename() != ds.folder) dir = (fs::path(dir) / ds.folder).string();
    if (verify_dataset_dir(dir, ds.id).ok()) {
        std::printf("%s is already complete in %s\n", ds.title, dir.c_str());
        return 0;
    }
    if (!archive.empty()) return install_archive(archive, dir, ds);
    const std::string file = fs::path(ds.archive_url).filename().string();
    const std::string tmp = (fs::path(dir).parent_path() / (file + ".part")).string();
    std::error_code ec;
    fs::create_directories(fs::path(tmp).parent_path(), ec);
    std::printf("downloading %s\n     into %s\n", ds.archive_url, tmp.c_str());
    const std::string cmd = "curl -fL --retry 2 --progress-bar -o " + shell_quote(tmp) + " " + shell_quote(ds.archive_url);
    if (std::system(cmd.c_str()) != 0)
        return fail("data fetch", "download failed (is this machine online, and is curl installed?). Alternatively download " +
                                      file + " yourself and run: quantlab data fetch --dataset " + ds.name + " --archive FILE");
    const int rc = install_archive(tmp, dir, ds);
    fs::remove(tmp, ec);
    return rc;
}

int run_check(const std::string& data, const DatasetInfo& ds) {
    const std::string dir = find_dataset_dir(data, ds.id);
    if (Status s = verify_dataset_dir(dir, ds.id); !s) return fail("data check", s.message);
    if (ds.id == Dataset::kCifar10) std::printf("%s: complete (5 training batches and the test batch)\n", dir.c_str());
    else std::printf("%s: complete (%s: train.bin and test.bin)\n", dir.c_str(), ds.title);
    return 0;
}

// --dataset as typed -> the dataset, or the parse error as a CLI validation error.
void add_dataset_option(CLI::App* app, std::shared_ptr<std::string> name) {
    app->add_option("--dataset", *name, "cifar10 or cifar100")->capture_default_str()->check([](const std::string& v) {
        Result<Dataset> d = parse_dataset(v);
        return d.ok() ? std::string() : d.message();
    });
}

// The dataset add_dataset_option's check already accepted.
const DatasetInfo& chosen(const std::string& name) {
    const Result<Dataset> d = parse_dataset(name);
    return dataset_info(d.ok() ? d.value : Dataset::kCifar10);
}

}  // namespace

void add_data_commands(CLI::App& root, Commands& cmds) {
    CLI::App* data = root.add_subcommand("data", "Get or check the CIFAR-10 (or CIFAR-100) data folder");
    data->require_subcommand(1);
    auto dir = std::make_shared<std::string>(), archive = std::make_shared<std::string>();
    auto fetch_set = std::make_shared<std::string>("cifar10"), check_set = std::make_shared<std::string>("cifar10");
    CLI::App* fetch = data->add_subcommand("fetch", "Download the official cifar-10-binary.tar.gz (or cifar-100-binary.tar.gz), check its MD5 and unpack it");
    fetch->add_option("--data", *dir, "target folder (default: CIFAR-10: $QUANTLAB_DATA, else ~/.cache/quantlab/cifar-10-batches-bin; CIFAR-100: ~/.cache/quantlab/cifar-100-binary)");
    fetch->add_option("--archive", *archive, "use an already downloaded archive instead of downloading");
    add_dataset_option(fetch, fetch_set);
    cmds.emplace_back(fetch, [dir, archive, fetch_set] { return run_fetch(*dir, *archive, chosen(*fetch_set)); });
    auto cdir = std::make_shared<std::string>();
    CLI::App* check = data->add_subcommand("check", "Check that a data folder holds all the dataset's files (CIFAR-10: six batch files; CIFAR-100: train.bin, test.bin)");
    check->add_option("--data", *cdir, "folder to check");
    add_dataset_option(check, check_set);
    cmds.emplace_back(check, [cdir, check_set] { return run_check(*cdir, chosen(*check_set)); });
}

}  // namespace quantlab::cli
