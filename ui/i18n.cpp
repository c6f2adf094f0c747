// i18n.cpp: the Japanese table. Keys are the English text exactly as the code passes it to tr() (an ImGui
// "##id" suffix included, so IDs stay stable across languages). After adding Japanese text, regenerate the
// font subset: python3 scripts/make_font_subset.py (it reads this file).
#include "ui/i18n.hpp"

#include <atomic>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <unordered_map>

#include "core/dataset.hpp"
#include "ui/lessons.hpp"

namespace quantlab::ui {

namespace {

std::atomic<Lang> g_lang{Lang::kEn};  // atomic: trainers' worker threads write their messages with tr()

struct Entry {
    const char* en;
    const char* ja;
};

// clang-format off
const Entry kTable[] = {
    {"Quantizer", "量子化器"},
    {"Network", "ネットワーク"},
    {"Evaluation", "評価"},
    {"Training", "学習"},
    {"Open...", "開く..."},
    {"Open", "開く"},
    {"Open a file", "ファイルを開く"},
    {"Cancel", "キャンセル"},
    {"Up", "上へ"},
    {"all files", "すべてのファイル"},
    {"Cannot open folder", "フォルダを開けません"},
    {"No such file or folder", "ファイルまたはフォルダがありません"},
    {"Weights (.safetensors, .pth) or CIFAR-10 batches (.bin)", "重み (.safetensors, .pth) または CIFAR-10 バッチ (.bin)"},
    {"Presenter", "プレゼンター"},
    {"View", "表示"},
    {"font scale", "文字の大きさ"},
    {"high contrast", "ハイコントラスト"},
    {"Keyboard", "キーボード"},
    {"Up / Down, + / -: bits up / down", "↑ / ↓, + / -: ビット幅を増減"},
    {"Left / Right, N, 1-4: panels", "← / →, N, 1-4: パネル切替"},
    {"P: presenter mode, H: high contrast, L: language, [ ]: font size", "P: プレゼンターモード, H: ハイコントラスト, L: 言語, [ ]: 文字の大きさ"},
    {"weights", "重み"},
    {"data", "データ"},
    {"images", "枚"},
    {"Weights (.safetensors, .pth) or CIFAR-10 batches (.bin); files can also be dropped onto the window",
     "重み (.safetensors, .pth) または CIFAR-10 バッチ (.bin)。ファイルはウィンドウにドロップしても開けます"},
    {"Dismiss", "閉じる"},
    {"Loading... (no weights or no test data yet: drop a file or use Open...)", "読み込み中... (重みかテストデータがありません: ファイルをドロップするか「開く」を使ってください)"},
    // lesson mode (ui/panel_lesson.cpp, ui/arch_diagram.cpp; the steps' own texts are in ui/lessons.cpp)
    {"Lessons", "レッスン"},
    {"Walk through the notebook in 8 steps", "ノートブックを 8 つのステップでたどります"},
    {"Lessons: Page Down / Up or Right / Left: next / previous step, Esc: close",
     "レッスン: Page Down / Up または → / ←: 次 / 前のステップ, Esc: 閉じる"},
    {"Lesson", "レッスン"},
    {"Q:", "問:"},
    {"Try:", "試す:"},
    {"Close", "閉じる"},
    {"Hide text", "本文を隠す"},
    {"Show text", "本文を表示"},
    {"← Previous", "← 前へ"},
    {"Next →", "次へ →"},
    {"logits", "出力 (logits)"},
    // quantizer lab
    {"Tensor", "テンソル"},
    {"synthetic randn (notebook)", "乱数 randn (ノートブック)"},
    {"layer weights", "層の重み"},
    {"layer input activations", "層の入力活性化"},
    {"layer", "層"},
    {"bits", "ビット幅"},
    {"range rule", "範囲の決め方"},
    {"max |r| (notebook)", "max |r| (ノートブック)"},
    {"mean ± k std (exercise)", "平均 ± k 標準偏差 (演習)"},
    {"min-max", "最小-最大"},
    {"percentile", "パーセンタイル"},
    {"MSE-optimal", "MSE 最小"},
    {"symmetric (Z = 0)", "対称 (Z = 0)"},
    {"codes", "コード"},
    {"bundled sample", "同梱サンプル"},
    {"full test set", "テストセット全体"},
    {"evaluating on the bundled sample of 1,000 test images instead", "代わりに同梱のテスト画像 1,000 枚で評価します"},
    {"narrow (2^b - 1 codes)", "狭い (2^b - 1 個のコード)"},
    {"full (2^b codes)", "全範囲 (2^b 個のコード)"},
    {"narrow: the notebook's code, S = max|r| / (2^(b-1) - 1); full: its printed "
     "S = (β - α) / (2^b - 1), as PyTorch",
     "狭い: ノートブックのコード、S = max|r| / (2^(b-1) - 1)。全範囲: ノートブックに印刷された式 "
     "S = (β - α) / (2^b - 1)、PyTorch と同じ"},
    {"per-channel (weights)", "チャネルごと (重み)"},
    {"per-channel weights", "重みをチャネルごとに"},
    {"channel", "チャネル"},
    {"STE backward", "STE 逆伝播"},
    {"identity (notebook)", "恒等 (ノートブック)"},
    {"clipped", "クリップ"},
    {"Use these settings for the network", "この設定をネットワークに使う"},
    {"Copies bits and rule to every layer (Network and Evaluation panels)", "ビット幅と範囲をすべての層にコピーします (ネットワーク・評価パネル)"},
    {"Formulas (PyTorch / ONNX sign)", "数式 (PyTorch / ONNX の符号)"},
    {"The notebook's sign", "ノートブックの符号"},
    {"levels", "レベル数"},
    {"representable", "表現できる範囲"},
    {"Error over the whole tensor", "テンソル全体の誤差"},
    {"max |error|", "最大 |誤差|"},
    {"notebook: torch.manual_seed(100); torch.randn(1000).sort()", "ノートブック: torch.manual_seed(100); torch.randn(1000).sort()"},
    {"input", "入力"},
    {"first batch", "最初のバッチ"},
    {"recording activations...", "活性化を記録中..."},
    {"r → r_hat", "r → r_hat"},
    {"identity r_hat = r", "恒等 r_hat = r"},
    {"quantized r_hat", "量子化後 r_hat"},
    {"samples (every 10th)", "サンプル (10 個おき)"},
    {"STE: d r_hat / d r used in backward", "STE: 逆伝播で使う d r_hat / d r"},
    {"identity: 1 everywhere", "恒等: どこでも 1"},
    {"clipped: 0 outside the range", "クリップ: 範囲外は 0"},
    {"histogram of r", "r のヒストグラム"},
    {"values", "個"},
    {"count", "個数"},
    {"r", "r"},
    {"levels r_hat", "量子化レベル r_hat"},
    {"clipped tails", "クリップされる裾"},
    {"outside", "個が範囲外"},
    {"quantization error r_hat - r", "量子化誤差 r_hat - r"},
    {"r_hat - r", "r_hat - r"},
    {"± S/2", "± S/2"},
    // network
    {"All layers", "全層"},
    {"weights (mixed)", "重み (層ごとに異なる)"},
    {"activations", "活性化"},
    {"activations (mixed)", "活性化 (層ごとに異なる)"},
    {"activation ranges", "活性化の範囲"},
    {"dynamic: range per batch (notebook)", "動的: バッチごとの範囲 (ノートブック)"},
    {"static: calibrated, frozen", "静的: キャリブレーションで固定"},
    {"weight shape", "重みの形"},
    {"weight bits", "重みビット"},
    {"act. bits", "活性化ビット"},
    {"W SQNR", "重み SQNR"},
    {"A SQNR", "活性化 SQNR"},
    {"A clipped", "活性化クリップ率"},
    {"float", "浮動小数点"},
    {"quantized", "量子化"},
    {"quantized (per level)", "量子化 (レベルごと)"},
    {"weights: float vs quantized", "重み: 浮動小数点と量子化"},
    {"input activations: float vs quantized", "入力活性化: 浮動小数点と量子化"},
    {"Activations: each layer's float input over the first batch of 128 test images (float network). Click a row to plot it.",
     "活性化: 最初のバッチ (テスト画像 128 枚) での各層の浮動小数点入力 (浮動小数点ネットワーク)。行をクリックするとグラフを表示します。"},
    // "Which layer breaks?" (ui/sensitivity_view.cpp)
    {"histograms", "ヒストグラム"},
    {"architecture", "構成図"},
    {"Which layer breaks?", "どの層で壊れる?"},
    {"Which layer breaks? (no network)", "どの層で壊れる? (ネットワークがありません)"},
    {"accuracy on the evaluation images", "評価画像での正解率"},
    {"only this layer quantized", "この層だけ量子化"},
    {"all quantized, this layer at 8", "全層を量子化, この層だけ 8 ビット"},
    {"current setting", "現在の設定"},
    {"accuracy vs size", "正解率とサイズ"},
    {"measuring each layer alone at 8, 4, 3 and 2 bits", "各層を単独で 8, 4, 3, 2 ビットにして測定中"},
    {"accuracy vs size (proxy, on the evaluation images)", "正解率とサイズ (推定値, 評価画像で)"},
    {"model size (KB)", "モデルサイズ (KB)"},
    {"best settings (click one to use it)", "最良の設定 (クリックで適用)"},
    {"current setting (measured)", "現在の設定 (実測)"},
    {"size", "サイズ"},
    {"proxy accuracy", "推定正解率"},
    // evaluation
    {"bits, all layers", "ビット幅 (全層)"},
    {"bits, all layers (now mixed)", "ビット幅 (全層, 現在は層ごとに異なる)"},
    {"dynamic (per batch)", "動的 (バッチごと)"},
    {"static (calibrated)", "静的 (キャリブレーション)"},
    {"kernels", "計算方式"},
    {"fast float", "高速浮動小数点"},
    {"integer", "整数"},
    {"reference", "参照実装"},
    {"change", "変化"},
    {"img/s", "枚/秒"},
    {"accuracy vs bits", "ビット幅と精度"},
    {"bits (weights = activations, every layer)", "ビット幅 (重み = 活性化, 全層)"},
    {"chance", "偶然"},
    {"in progress", "計算中"},
    {"per-class accuracy", "クラスごとの精度"},
    {"confusion, quantized", "混同行列 (量子化)"},
    {"of row", "行ごと"},
    {"predicted", "予測"},
    {"true", "正解"},
    {"change vs float, images", "浮動小数点からの変化 (枚数)"},
    {"broken", "件悪化"},
    {"fixed", "件改善"},
    {"only flipped predictions", "予測が変わった画像だけ"},
    {"page", "ページ"},
    {"frame:", "枠:"},
    {"broken by quantization", "量子化で誤りに"},
    {"fixed by it", "量子化で正解に"},
    {"other change", "その他の変化"},
    {"No prediction changed (yet).", "予測が変わった画像は (まだ) ありません。"},
    {"No images.", "画像がありません。"},
    // training
    {"New run", "新しい学習"},
    {"epochs", "エポック数"},
    {"batch size", "バッチサイズ"},
    {"learning rate", "学習率"},
    {"optimizer", "最適化手法"},
    {"LR schedule", "学習率スケジュール"},
    {"constant", "一定"},
    {"cosine", "コサイン"},
    {"step", "ステップ"},
    {"augmentation (crop + flip)", "データ拡張 (切り抜き + 反転)"},
    {"cutout##t", "カットアウト##t"},
    {"none", "なし"},
    {"Cutout zeroes an N x N square at a random place of each training image (DeVries & Taylor: 16).",
     "カットアウトは各学習画像のランダムな位置にある N x N の正方形を 0 にします (DeVries & Taylor: 16)。"},
    {"colour jitter", "色のゆらぎ"},
    {"Colour jitter scales brightness, contrast and saturation by random factors in [1 - a, 1 + a] (e.g. 0.4).",
     "色のゆらぎは明るさ・コントラスト・彩度を [1 - a, 1 + a] の乱数倍にします (例: 0.4)。"},
    {"dataset", "データセット"},
    {"The loaded weights have %d outputs but %s has %d classes: choose a start from scratch, or open weights made for %s.",
     "読み込んだ重みの出力は %d 個ですが、%s のクラス数は %d です: ゼロからの開始を選ぶか、%s 用の重みを開いてください。"},
    {"outputs, from scratch", "出力, ゼロから学習"},
    {"quantization-aware (STE)", "量子化を考慮した学習 (STE)"},
    {"weight bits##t", "重みビット##t"},
    {"activation bits##t", "活性化ビット##t"},
    {"start from the loaded weights", "読み込んだ重みから始める"},
    {"fine-tune loaded file", "読み込んだ重みを微調整"},
    {"scratch: notebook net", "ゼロから: ノートブックのネット"},
    {"scratch: wide:N", "ゼロから: wide:N (幅 N 倍)"},
    {"scratch: description", "ゼロから: 記述したネット"},
    {"start##model", "開始点##model"},
    {"width N##wide", "幅 N##wide"},
    {"layers separated by ';' (conv NAME IN OUT K PAD; bn NAME C; relu; pool K; flatten; linear NAME IN OUT)",
     "層を ';' で区切る (conv 名前 入力 出力 K PAD; bn 名前 C; relu; pool K; flatten; linear 名前 入力 出力)"},
    {"parameters", "パラメータ数"},
    {"curves to", "曲線の保存先"},
    {"Save CSV", "CSV を保存"},
    {"Save PNG", "PNG を保存"},
    {"wrote", "保存しました:"},
    {"steps", "ステップ数"},
    {"wall time (s)", "経過時間 (秒)"},
    {"x axis##train", "横軸##train"},
    {"optimizer step", "最適化ステップ"},
    {"Start", "開始"},
    {"Stop", "停止"},
    {"Resume", "再開"},
    {"Export", "書き出し"},
    {"export to", "書き出し先"},
    {"exported to", "書き出しました:"},
    {"Runs", "学習の一覧"},
    {"device", "デバイス"},
    {"epoch", "エポック"},
    {"loss", "損失"},
    {"queued", "待機中"},
    {"running", "実行中"},
    {"stopped", "停止中"},
    {"finished", "完了"},
    {"failed", "失敗"},
    {"training loss", "学習損失"},
    {"validation accuracy", "検証精度"},
    {"validation and test accuracy", "検証精度とテスト精度"},
    {"Use as model", "このモデルを使う"},
    {"Download", "ダウンロード"},
    {"file name", "ファイル名"},
    {"val", "検証"},
    {"test", "テスト"},
    {"Validation (solid) uses training images the loaded network was trained on, so it reads up to about 20 "
     "points above test accuracy (dashed: the app's test images).",
     "検証精度（実線）は読み込んだネットワークが学習に使った画像で測るため、テスト精度（破線: アプリのテスト画像）より最大で約20ポイント高く出ます。"},
    {"quantizer", "量子化器"},
    {"fixed (range rule + STE)", "固定 (範囲の規則 + STE)"},
    {"LSQ (learned step size)", "LSQ (ステップ幅を学習)"},
    {"Training images: fetched when the first run starts (or drop CIFAR-10 data_batch_*.bin files here).",
     "学習画像: 最初の学習を始めたときに読み込みます (CIFAR-10 の data_batch_*.bin をここにドロップしても使えます)。"},
    {"Training images: %s (%lld images).", "学習画像: %s (%lld 枚)。"},
    // the core trainer's status lines (ui/core_trainer.cpp)
    {"browser, core engine, worker thread", "ブラウザ, コアエンジン, ワーカースレッド"},
    {"browser, core engine, Web Worker", "ブラウザ, コアエンジン, Web Worker"},
    {"cpu, core engine", "CPU, コアエンジン"},
    {", %d thread", ", %d スレッド"},
    {", %d threads", ", %d スレッド"},
    {"%lld training / %lld validation images (%s)", "学習画像 %lld 枚 / 検証画像 %lld 枚 (%s)"},
    {"finished: test accuracy %.2f %% (%lld test images; before training %.2f %%), validation %.2f %%",
     "完了: テスト精度 %.2f %% (テスト画像 %lld 枚、学習前 %.2f %%)、検証精度 %.2f %%"},
    {"stopped at epoch %.2f (step %lld); Resume continues with the next batch",
     "エポック %.2f (ステップ %lld) で停止しました。再開すると次のバッチから続けます"},
    {"after %lld step", "%lld ステップ後"},
    {"after %lld steps", "%lld ステップ後"},
    {"The last good weights (%s) are kept: use or download them. Hint: lower the learning rate (e.g. %g).",
     "最後の正常な重み (%s) を残しました: 使うかダウンロードできます。ヒント: 学習率を下げてください (例: %g)。"},
    {"loading the training images...", "学習画像を読み込んでいます..."},
    {"stopped before it started", "開始前に停止しました"},
    {"stopping after the current step...", "今のステップが終わったら停止します..."},
    {"queued to resume", "再開を待っています"},
    {"downloaded as %s", "%s としてダウンロードしました"},
    {"exported to %s", "%s に書き出しました"},
    {"%s in %s", "%s (%s 内)"},
    // the LibTorch trainer's (native/gui/gui_trainer.cpp)
    {"stopped at epoch %.2f", "エポック %.2f で停止しました"},
    {"stopped at epoch %.2f; checkpoint %s", "エポック %.2f で停止しました。チェックポイント: %s"},
    {"finished: test accuracy %.2f %% (static ranges, %lld test images), %.2f %% (dynamic)",
     "完了: テスト精度 %.2f %% (静的な範囲, テスト画像 %lld 枚)、%.2f %% (動的)"},
    {"queued (starts over: no checkpoint yet)", "待機中 (チェックポイントがまだないので最初から)"},
    {"queued to resume from %s", "%s から再開するのを待っています"},
    {"exported to %s (test accuracy %s %%)", "%s に書き出しました (テスト精度 %s %%)"},
    {"exporting the checkpoint to %s...", "チェックポイントを %s に書き出しています..."},
    {"exported the checkpoint to %s", "チェックポイントを %s に書き出しました"},
    {"export failed: %s", "書き出しに失敗しました: %s"},
    {"PACT (learned clipping)", "PACT (クリップ値を学習)"},
    {"learned step sizes", "学習したステップ幅"},
    {"S / first S", "S / 最初の S"},
    {" weight", " 重み"},
    {" input", " 入力"},
    {"trainer not built", "学習機能はビルドされていません"},
    {"Training is not available here: this app was given no trainer. Trained models can still be evaluated: drop an "
     "exported .safetensors file here.",
     "ここでは学習は使えません: このアプリには学習機能がありません。学習済みモデルは評価できます: 書き出した .safetensors ファイルをここにドロップしてください。"},
    // layout: one part at a time (presenter mode, small windows), colour legends
    {"confusion", "混同行列"},
    {"most confused (true -> predicted, images):", "最も混同されたクラス (正解 -> 予測, 枚数):"},
    {"This model has %d classes but the test images are %s (%d classes): open the matching test set "
     "(CIFAR-100: test.bin of cifar-100-binary; quantlab-gui --data DIR).",
     "このモデルのクラス数は %d ですが、テスト画像は %s (%d クラス) です: 対応するテストセットを開いてください "
     "(CIFAR-100: cifar-100-binary の test.bin; quantlab-gui --data DIR)。"},
    {"per class", "クラス別"},
    {"histogram", "ヒストグラム"},
    {"error", "誤差"},
    {"gallery", "画像一覧"},
    {"better", "改善"},
    {"worse", "悪化"},
    // error framing: the detail after it is core's message (file names, expected vs found)
    {"Could not open this file:", "このファイルを開けませんでした:"},
    {"This link has a value QuantLab cannot use:", "このリンクには QuantLab が使えない値があります:"},
    // models on the page: picker, overlay, model size (ui/model_catalog, ui/model_widgets, core/model_size)
    {"model", "モデル"},
    {"Unknown model", "不明なモデル"},
    {"Bundled models:", "同梱モデル:"},
    {"This model does not fit the network:", "このモデルはネットワークに合いません:"},
    {"cannot be used:", "使用できません:"},
    {"cannot be used", "使用できません"},
    {"mixed", "混在"},
    {"test accuracy", "テスト精度"},
    {"opened file (not bundled)", "開いたファイル (同梱ではありません)"},
    {"PTQ of", "学習後量子化 (PTQ)"},
    {"QAT models", "QAT モデル"},
    {"weight size", "重みのサイズ"},
    {"bias (float32)", "バイアス (float32)"},
    {"mixed bits", "ビット幅混在"},
    {"%d-bit", "%d ビット"},
    {"%s: %s = %.1fx smaller than float (%s)", "%s: %s = 浮動小数点の 1/%.1f (浮動小数点では %s)"},
    {"(weights packed at their bits; biases and batch norm float32)", "(重みはそのビット幅で詰めて格納、バイアスとバッチ正規化は float32)"},
};
// clang-format on

// CIFAR-10 classes as the notebook names them.
const char* const kClassEn[10] = {"plane", "car", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"};
const char* const kClassJa[10] = {"飛行機", "自動車", "鳥", "猫", "鹿", "犬", "カエル", "馬", "船", "トラック"};

// Symbols drawn outside the tables (formulas, arrows) that the font must hold.
const char* const kSymbols = "±×÷→←↑↓αβ·−°…";

const std::unordered_map<std::string, const char*>& table() {
    static const std::unordered_map<std::string, const char*> t = [] {
        std::unordered_map<std::string, const char*> m;
        for (const Entry& e : kTable) m.emplace(e.en, e.ja);
        return m;
    }();
    return t;
}

}  // namespace

void set_language(Lang lang) { g_lang = lang; }
Lang language() { return g_lang; }

const char* tr(const char* english) {
    if (g_lang == Lang::kEn) return english;
    auto it = table().find(english);
    return it == table().end() ? english : it->second;
}

std::string tr_format(const char* english_format, ...) {
    char b[1000];
    va_list args;
    va_start(args, english_format);
    std::vsnprintf(b, sizeof b, tr(english_format), args);  // the translation keeps the format's conversions
    va_end(args);
    return b;
}

const char* class_name(int c) {
    if (c < 0 || c >= 10) return "?";
    return g_lang == Lang::kJa ? kClassJa[c] : kClassEn[c];
}

std::string class_label(int classes, int c) {
    if (classes == kCifar10NumClasses) return class_name(c);
    if (classes == dataset_info(Dataset::kCifar100).classes) return dataset_class_name(Dataset::kCifar100, c);
    return std::to_string(c);
}

std::vector<std::pair<const char*, const char*>> translations() {
    std::vector<std::pair<const char*, const char*>> out;
    for (const Entry& e : kTable) out.emplace_back(e.en, e.ja);
    return out;
}

std::string all_ui_text() {
    std::string s = kSymbols;
    for (const Entry& e : kTable) s += e.ja;
    for (const char* c : kClassJa) s += c;
    s += "日本語English";
    s += all_lesson_text();
    return s;
}

}  // namespace quantlab::ui
