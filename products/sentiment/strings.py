"""The Sentiment product's user-facing strings, English and Chinese."""
from shared.i18n import add

add({
    "sentiment.tab": ("Sentiment", "情感分析"),
    "sentiment.intro": ("Score the sentiment of a text, or of every row of a CSV/TSV/XLSX file. English and Chinese; "
                        "the language is detected per text unless you choose it.",
                        "分析一段文字或 CSV/TSV/XLSX 文件中每一行的情感。支持英文和中文；默认逐条自动识别语言。"),
    "sentiment.text": ("Text", "文本"),
    "sentiment.language": ("Language", "语言"),
    "sentiment.analyse": ("Analyse", "分析"),
    "sentiment.probabilities": ("Probability per class", "各类别概率"),
    "sentiment.file": ("File (CSV, TSV, XLSX, or TXT with one text per line)", "文件（CSV、TSV、XLSX，或每行一条文本的 TXT）"),
    "sentiment.column": ("Text column", "文本列"),
    "sentiment.score_file": ("Score file", "分析文件"),
    "sentiment.results": ("Results (first 1,000 rows shown; download for all)", "结果（显示前 1000 行；下载查看全部）"),
    "sentiment.distribution": ("Labels", "标签分布"),
    "sentiment.download": ("Results file", "结果文件"),
    "sentiment.single": ("One text", "单条文本"),
    "sentiment.batch": ("A file", "批量文件"),
    "sentiment.progress": ("Scoring {done}/{total}", "正在分析 {done}/{total}"),
    "sentiment.note.language": ("Language: {language}.", "语言：{language}。"),
    "sentiment.note.overall": ("**Overall: {label}.**", "**总体：{label}。**"),
    "sentiment.label.positive": ("positive", "正面"),
    "sentiment.label.negative": ("negative", "负面"),
    "sentiment.label.neutral": ("neutral", "中性"),
    "sentiment.label.mixed": ("mixed (positive and negative clauses)", "褒贬混合（既有正面也有负面的分句）"),
    "sentiment.clauses": ("Clauses", "分句"),
    "sentiment.fast": ("Fast model (for very large files)", "快速模型（适合很大的文件）"),
    "sentiment.fast_info": ("The fine-tuned MiniLM: about 10x faster than EmbeddingGemma, less accurate on new domains.",
                            "微调后的 MiniLM：比 EmbeddingGemma 快约 10 倍，在新领域上准确率较低。"),
    "sentiment.note.windows": ("The text is longer than the model's limit of {limit} tokens, so it was scored in "
                               "{windows} overlapping windows and their scores averaged.",
                               "文本超过模型 {limit} 个词元的上限，已分成 {windows} 个重叠窗口分别打分后取平均。"),
    "sentiment.summary": ("{rows} rows scored ({empty} empty skipped) in {seconds:.1f}s. Languages: {languages}.",
                          "已分析 {rows} 行（跳过 {empty} 个空行），用时 {seconds:.1f} 秒。语言：{languages}。"),
    "sentiment.summary.rows": ("{rows_in} rows read, {rows_out} rows in the results.",
                               "读取 {rows_in} 行，结果中 {rows_out} 行。"),
    "sentiment.error.empty": ("Please enter a text to analyse.", "请输入要分析的文本。"),
    "sentiment.error.too_long": ("The text has {chars} characters; the limit is {limit}.", "文本有 {chars} 个字符，上限为 {limit}。"),
    "sentiment.error.language": ("Unsupported language '{language}': choose auto, en or zh.", "不支持的语言“{language}”：请选择 auto、en 或 zh。"),
    "sentiment.error.no_file": ("Please upload a CSV, TSV or XLSX file.", "请上传 CSV、TSV 或 XLSX 文件。"),
    "sentiment.error.file_type": ("Files of type '{suffix}' are not supported: upload CSV, TSV, XLSX or TXT.",
                                  "不支持“{suffix}”类型的文件：请上传 CSV、TSV、XLSX 或 TXT。"),
    "sentiment.error.encoding": ("The file's text encoding is not recognised: save it as UTF-8 and upload it again.",
                                 "无法识别文件的文字编码：请另存为 UTF-8 后重新上传。"),
    "sentiment.error.corrupt": ("The file could not be read as a table ({detail}).", "无法把文件读成表格（{detail}）。"),
    "sentiment.error.no_rows": ("The file has no rows.", "文件中没有数据行。"),
    "sentiment.error.column": ("There is no column '{column}'. Columns: {columns}.", "没有名为“{column}”的列。现有列：{columns}。"),
    "sentiment.error.empty_column": ("Column '{column}' has no text in any row.", "“{column}”列中没有任何文本。"),
    "sentiment.error.too_many_rows": ("The file has {rows} rows; the limit is {limit} (AIPM_SENTIMENT_MAX_ROWS).",
                                      "文件有 {rows} 行，上限为 {limit}（AIPM_SENTIMENT_MAX_ROWS）。"),
    "sentiment.error.rows_over_limit": ("The file has more than {limit} rows; the limit is {limit} (AIPM_SENTIMENT_MAX_ROWS).",
                                        "文件超过 {limit} 行，上限为 {limit}（AIPM_SENTIMENT_MAX_ROWS）。"),
    "sentiment.error.too_many_cells": ("The file has more than {limit:,} cells (rows × columns): remove the columns you "
                                       "do not need and upload it again.",
                                       "文件超过 {limit:,} 个单元格（行 × 列）：请删除不需要的列后重新上传。"),
    "sentiment.error.extra_fields": ("Line {line} has {fields} fields but the header has {columns}: put texts that "
                                     "contain the separator ({sep}) in double quotes, or upload one text per line as .txt.",
                                     "第 {line} 行有 {fields} 个字段，但表头只有 {columns} 个：含分隔符（{sep}）的文本"
                                     "请用双引号括起来，或把每行一条文本存为 .txt 上传。"),
    "sentiment.error.csv_syntax": ("The file is not valid CSV at the record starting on line {line} ({detail}): check "
                                   "its double quotes.",
                                   "文件从第 {line} 行开始的记录不是有效的 CSV（{detail}）：请检查其中的双引号。"),
    "sentiment.error.xlsx_too_big": ("The spreadsheet unpacks to {mb:,.0f} MB; the limit is {limit_mb:,.0f} MB. Save "
                                     "the texts as CSV, or split the file.",
                                     "表格解压后有 {mb:,.0f} MB，上限为 {limit_mb:,.0f} MB。请另存为 CSV 或拆分文件。"),
    # While the set-up runs in the background (a Space): products/sentiment/tab.py setup_note
    "sentiment.setup.packages": ("⏳ The sentiment models are installing (step {index} of {count}, {minutes} min so "
                                 "far); scoring works once they are in.",
                                 "⏳ 情感模型正在安装（第 {index}/{count} 步，已用 {minutes} 分钟）；装好后即可分析。"),
    "sentiment.setup.gemma": ("⏳ Better engine installing: EmbeddingGemma assembling (step {index} of {count}, "
                              "{minutes} min so far). Until then the fine-tuned MiniLM scores texts (less accurate on "
                              "new domains). It switches by itself, no restart.",
                              "⏳ 更好的引擎正在安装：正在组装 EmbeddingGemma（第 {index}/{count} 步，已用 {minutes} 分钟）。"
                              "在此之前由微调的 MiniLM 分析（对新领域不够准确）。装好后自动切换，无需重启。"),
    "sentiment.setup.failed": ("⚠️ EmbeddingGemma could not be assembled ({note}); the fine-tuned MiniLM scores texts.",
                               "⚠️ EmbeddingGemma 未能组装（{note}）；由微调的 MiniLM 分析。"),
})
