// lessons.cpp: the eight steps of the lesson mode (see lessons.hpp), following the notebook class_03 in its
// order: the quantizer and its plot, the two exercises, QuantConv2d/QuantLinear in the network, accuracy
// before and after quantization, the STE, fine-tuning (QAT, with the shipped models), the final assignment.
// The Japanese texts use the notebook's own terms (量子化, ビット幅, 再学習, 最終課題, ...).
#include "ui/lessons.hpp"

#include <algorithm>

namespace quantlab::ui {

namespace {

// clang-format off
const Lesson kLessons[kNumLessons] = {
    {   // 1: the notebook's first plot
        "The quantizer on randn(1000), b = 3",
        "量子化関数: randn(1000) を b = 3 で",
        "The notebook's first plot: r = torch.randn(1000).sort() (seed 100) quantized with b = 3 bits, symmetric, "
        "Z = 0 and S = max|r| / (2^(b-1) - 1). Look at the staircase r → r_hat, and at S and the levels in the "
        "formulas on the left.",
        "ノートブックの最初のプロットです。r = torch.randn(1000).sort() (seed 100) を b = 3 ビットで量子化します "
        "(対称, Z = 0, S = max|r| / (2^(b-1) - 1))。入出力 r → r_hat の階段と、左の式に出ている S と量子化レベルの数を"
        "見てください。",
        "How many different values can r_hat take at b = 3, and how far apart are they? The notebook prints "
        "S = (β - α) / (2^b - 1) instead (2^b codes, as PyTorch): what changes?",
        "b = 3 のとき r_hat は何種類の値を取りますか? その間隔はいくつですか? ノートブックに印刷された式は "
        "S = (β - α) / (2^b - 1) です (2^b 個のコード, PyTorch と同じ)。何が変わりますか?",
        "panel=quantizer&view=1&lab=syn&lb=3&lr=maxabs&lcodes=narrow",
        {{"2^b - 1 codes (the code)", "2^b - 1 個 (コード)", "lcodes=narrow"},
         {"2^b codes (as printed)", "2^b 個 (印刷された式)", "lcodes=full"}},
    },
    {   // 2: the first exercise
        "Exercise: the range ±std(r)",
        "演習: 量子化範囲を ±std(r) に",
        "The notebook's exercise: set {α, β} = {-std(r), +std(r)} instead of ±max|r| (here mean ± k·std with "
        "k = 1). Values outside the range are clipped to the end levels (shaded); inside it the steps are finer. "
        "Compare with max|r| (buttons).",
        "ノートブックの演習です。量子化範囲を ±max|r| の代わりに {α, β} = {-std(r), +std(r)} にします "
        "(ここでは平均 ± k·標準偏差, k = 1)。範囲の外の値は端のレベルにクリップされ (影の部分)、範囲の中では"
        "刻みが細かくなります。ボタンで max|r| と見比べてください。",
        "Which values of r get a larger error than with max|r|, and which a smaller one? Which range gives the "
        "smaller total error at b = 3?",
        "max|r| のときより誤差が大きくなるのはどの r で、小さくなるのはどの r ですか? b = 3 で全体の誤差が"
        "小さいのはどちらの範囲ですか?",
        "panel=quantizer&view=3&lab=syn&lb=3&lr=meanstd&lk=1",
        {{"±std (k = 1)", "±std (k = 1)", "lr=meanstd&lk=1"},
         {"±2 std (k = 2)", "±2 std (k = 2)", "lr=meanstd&lk=2"},
         {"max|r| (notebook)", "max|r| (ノートブック)", "lr=maxabs"}},
    },
    {   // 3: the second exercise
        "Exercise: b = 8, 4, 2",
        "演習: ビット幅 b = 8, 4, 2",
        "The second exercise: change the bit width to b = 8, 4 and 2 (buttons, or Up / Down) and watch the "
        "staircase and the error. Each bit fewer roughly halves the number of levels (2^b - 1) and doubles S.",
        "2 つ目の演習です。ビット幅を b = 8, 4, 2 と変えて (ボタンか ↑ / ↓)、階段と誤差の変化を見てください。"
        "1 ビット減るごとにレベルの数 (2^b - 1) はおよそ半分に、S はおよそ 2 倍になります。",
        "At b = 2, how many levels are left, and what happens to the values near 0 and near ±max|r|?",
        "b = 2 ではレベルはいくつ残りますか? 0 付近と ±max|r| 付近の値はどうなりますか?",
        "panel=quantizer&view=1&lab=syn&lb=8&lr=maxabs",
        {{"b = 8", "b = 8", "lb=8"}, {"b = 4", "b = 4", "lb=4"}, {"b = 2", "b = 2", "lb=2"}},
    },
    {   // 4: QuantConv2d / QuantLinear in the network
        "The network and its quantizers",
        "ネットワークと量子化の位置",
        "The notebook's Net: two blocks conv 5x5 → BN → ReLU → max pool, then flatten and three linear layers "
        "(fc1, fc2, fc3). QuantConv2d and QuantLinear quantize the input (A) and the weight (W) of every conv / "
        "linear layer, marked in the diagram; biases and BatchNorm stay float. The table gives each layer's error.",
        "ノートブックの Net は conv 5x5 → BN → ReLU → max pool のブロック 2 つと、flatten のあとの線形層 3 つ "
        "(fc1, fc2, fc3) です。QuantConv2d と QuantLinear は畳み込み層と線形層の入力 (A) と重み (W) を量子化"
        "します (図の印)。バイアスと BatchNorm は量子化しません。表は層ごとの誤差です。",
        "How many quantizers does this network have, and which tensors stay in float?",
        "このネットワークには量子化器がいくつありますか? float のまま残るテンソルはどれですか?",
        "panel=network&view=4&wb=4&ab=4",
        {{"W4 A4", "W4 A4", "wb=4&ab=4"}, {"W2 A8", "W2 A8", "wb=2&ab=8"}, {"W8 A2", "W8 A2", "wb=8&ab=2"}},
    },
    {   // 5: accuracy before and after quantization
        "Accuracy vs bits (the notebook's table)",
        "ビット幅と精度 (ノートブックの表)",
        "accuracy(testloader, net) against accuracy(testloader, quantized_net) at every bit width. On all 10,000 "
        "test images: float 67.17 %, 8 bits 67.08 %, 4 bits 57.38 %, 3 bits 25.96 %, 2 bits 9.95 % (the page "
        "evaluates the first 1,000, so its numbers differ a little).",
        "accuracy(testloader, net) と accuracy(testloader, quantized_net) をビット幅ごとに比べます。テスト画像 "
        "10,000 枚では float 67.17 %, 8 ビット 67.08 %, 4 ビット 57.38 %, 3 ビット 25.96 %, 2 ビット 9.95 % "
        "です (このページは最初の 1,000 枚で評価するので、少し違います)。",
        "Below which bit width does the accuracy fall steeply? Which classes and images flip first?",
        "何ビットより下で精度が急に落ちますか? 最初に予測が変わるのはどのクラス、どの画像ですか?",
        "panel=eval&wb=4&ab=4",
        {{"8 bits", "8 ビット", "wb=8&ab=8"}, {"4 bits", "4 ビット", "wb=4&ab=4"}, {"2 bits", "2 ビット", "wb=2&ab=2"}},
    },
    {   // 6: the STE as an autograd Function
        "The straight-through estimator (STE)",
        "STE: 量子化関数の逆伝播",
        "The quantizer is a staircase: its gradient is 0 almost everywhere, so training cannot pass through it. "
        "The notebook's Quantization(torch.autograd.Function) quantizes in forward and uses the identity's "
        "gradient (1 for every input) in backward. The plot under the staircase is that gradient; the clipped "
        "STE makes it 0 outside the range.",
        "量子化関数は階段状なので勾配はほとんどの点で 0 になり、このままでは学習できません。ノートブックの "
        "Quantization(torch.autograd.Function) は順伝播で量子化し、逆伝播では恒等関数の勾配 (全ての入力に対して "
        "1) を使います。階段の下のグラフがその勾配です。クリップ STE では範囲の外で 0 になります。",
        "Why can fine-tuning through the STE recover accuracy although the true gradient is 0? What changes for "
        "the clipped values with the clipped STE?",
        "量子化関数の本当の勾配はほぼ 0 なのに、STE を使った再学習で精度が回復するのはなぜですか? クリップ STE では範囲の外の"
        "値の学習はどう変わりますか?",
        "panel=quantizer&view=4&lab=syn&lb=3&lr=meanstd&lk=1&ste=identity",
        {{"identity (notebook)", "恒等 (ノートブック)", "ste=identity"}, {"clipped", "クリップ", "ste=clipped"}},
    },
    {   // 7: fine-tuning: the shipped QAT models against PTQ
        "PTQ vs QAT: the shipped models",
        "PTQ と QAT: 同梱のモデル",
        "Post-training quantization (PTQ) quantizes a trained network as it is; quantization-aware training (QAT) "
        "fine-tunes it through the STE, as the notebook's training loop does. Both start from float_best "
        "(76.50 %) with the same quantizer (asymmetric MSE ranges, per-channel weights, calibrated activation ranges). On all "
        "10,000 images, 2 bits: PTQ 33.40 %, QAT 60.71 %.",
        "学習済みのネットワークをそのまま量子化するのが PTQ (post-training quantization)、ノートブックの学習"
        "ループのように STE を通して再学習するのが QAT (quantization-aware training) です。どちらも float_best "
        "(76.50 %) から始め、同じ量子化器 (非対称, MSE で決めた範囲, チャネルごとの重み, キャリブレーションで固定した"
        "活性化の範囲) を使います。テスト画像 10,000 枚, 2 ビットで PTQ 33.40 %, QAT 60.71 % です。",
        "How many points does QAT win back at 4 bits and at 2 bits? Why does fine-tuning help more at fewer bits?",
        "4 ビットと 2 ビットで QAT は何ポイント取り戻しますか? ビット幅が小さいほど再学習が効くのはなぜですか?",
        "panel=eval&w=qat_w2a2.safetensors&wb=2&ab=2&rule=mse&sym=0&pc=1&mode=static",
        {{"QAT, 2 bits", "QAT, 2 ビット", "w=qat_w2a2.safetensors&wb=2&ab=2"},
         {"PTQ, 2 bits", "PTQ, 2 ビット", "w=float_best.safetensors&wb=2&ab=2"},
         {"QAT, 4 bits", "QAT, 4 ビット", "w=qat_w4a4.safetensors&wb=4&ab=4"},
         {"PTQ, 4 bits", "PTQ, 4 ビット", "w=float_best.safetensors&wb=4&ab=4"}},
    },
    {   // 8: the final assignment
        "The final assignment",
        "最終課題",
        "Apply one change to the network and study how its accuracy changes: the data set, data augmentation, "
        "the optimizer, an LR scheduler, the model, batch size vs learning speed, or the quantization bit width. "
        "`quantlab train` and the desktop app's Training panel have a setting for each; load the exported weights "
        "here to compare.",
        "次の中から一つの変更をニューラルネットワークに適用して、精度がどのように変化するか調査してください: "
        "データセット変更, 学習データ拡張, Optimizer 変更, LR Scheduler 追加, モデル変更, バッチサイズと学習"
        "速度の関係, 量子化ビット幅変更。`quantlab train` とデスクトップ版の学習パネルにそれぞれの設定があります。"
        "書き出した重みをここで読み込んで比べてください。",
        "Which one change will you study, what will you keep fixed, and which numbers will you compare?",
        "どの変更を調べますか? 何を固定して、どの数値を比べますか?",
        "panel=train",
        {},
    },
};
// clang-format on

}  // namespace

const Lesson& lesson(int n) { return kLessons[std::clamp(n, 1, kNumLessons) - 1]; }

UiState lesson_view(const UiState& from, int n) {
    if (n < 1 || n > kNumLessons) {
        UiState s = from;
        s.lesson = 0;
        return s;
    }
    UiState s;
    s.lang = from.lang;
    s.font_scale = from.font_scale;
    s.high_contrast = from.high_contrast;
    // The views are this file's own strings and unit-tested to decode cleanly.
    (void)decode_state(lesson(n).view, &s);
    s.lesson = n;
    return s;
}

Status decode_state_with_lessons(const std::string& text, UiState* s) {
    UiState next = *s;
    const Status status = decode_state(text, &next);
    if (next.lesson != s->lesson && next.lesson != 0) {
        // Another step: its view first, then the text again on top (it may set more than the step).
        next = lesson_view(next, next.lesson);
        (void)decode_state(text, &next);
    }
    *s = next;
    return status;
}

std::string all_lesson_text() {
    std::string t;
    for (const Lesson& l : kLessons) {
        t += l.title_ja;
        t += l.text_ja;
        t += l.question_ja;
        for (const LessonTry& x : l.tries)
            if (x.label_ja) t += x.label_ja;
    }
    return t;
}

}  // namespace quantlab::ui
