"""Every user-facing string of the Recommendations product, English and Chinese (the model card,
English only, is card.py)."""
from shared.i18n import add

# The tab
add({
    "recommend.tab": ("Recommendations", "推荐"),
    "recommend.intro": ("Movie recommendations from 100,000 real MovieLens ratings (GroupLens): an item-item model "
                        "(EASE) fitted on the ratings together with content vectors of each title and its genres, "
                        "blended with implicit's ALS, an item-kNN and what people rated next after your latest "
                        "ratings, chosen by how much history a user has. Every "
                        "recommendation says why. The first use fits the models (under a minute, with progress) or loads them "
                        "from the cache.",
                        "基于 10 万条真实 MovieLens 评分（GroupLens）的电影推荐：在评分与标题、类型内容向量上共同拟合的物品-物品模型"
                        "（EASE），与 implicit ALS、物品 kNN 以及“其他人在看过你最近评价的电影之后接着评价了什么”相混合（按用户历史长短选择），每条推荐都附有理由。首次使用时拟合模型（不到一分钟，显示进度）"
                        "或从缓存加载。"),
    "recommend.user_tab": ("For a user", "为已有用户"), "recommend.cold_tab": ("New visitor", "新访客"),
    "recommend.similar_tab": ("Similar items", "相似条目"), "recommend.card_tab": ("Model card", "模型说明"),
    "recommend.user": ("User id", "用户 ID"), "recommend.n": ("How many", "数量"),
    "recommend.go": ("Recommend", "推荐"), "recommend.recs": ("Recommendations", "推荐结果"),
    "recommend.history": ("Their ratings", "该用户的评分"),
    "recommend.mix": ("Genre mix: history vs recommendations", "类型构成：历史 vs 推荐"),
    "recommend.scores": ("Scores", "得分"),
    "recommend.picks": ("Movies you like (type to search; the last one counts as your latest)",
                        "你喜欢的电影（输入以搜索；最后一部视为最近看过的）"),
    "recommend.fav_genres": ("Favourite genres (optional)", "喜欢的类型（可选）"),
    "recommend.item": ("Movie", "电影"), "recommend.find": ("Find similar", "查找相似"),
    "recommend.similar": ("Similar movies", "相似电影"),
    "recommend.auto": ("Blend tuned on validation", "使用验证集调好的混合权重"),
    "recommend.weight": ("Blend: 0 = content only, 1 = collaborative only", "混合：0 = 仅内容，1 = 仅协同"),
    "recommend.filter_genres": ("Only these genres", "只看这些类型"),
    "recommend.year_from": ("Year from", "起始年份"), "recommend.year_to": ("Year to", "结束年份"),
    "recommend.settings": ("Blend and filters", "混合与筛选"), "recommend.card_go": ("Show model card", "显示模型说明"),
    "recommend.fb.chosen": ("Click a recommendation, then tell us", "点选一条推荐，然后告诉我们"),
    "recommend.fb.not": ("Not interested", "不感兴趣"),
    "recommend.fb.liked": ("Seen it, liked it", "看过，喜欢"),
})

# Results, reasons and errors (core.py)
add({
    "recommend.error.user": ("Unknown user id '{user}'. Known ids run from {first} to {last} ({count} users).",
                             "未知的用户 ID“{user}”。已知 ID 从 {first} 到 {last}（共 {count} 位用户）。"),
    "recommend.error.no_picks": ("Pick at least one item you like.", "请至少选择一个喜欢的条目。"),
    "recommend.error.item": ("Unknown item '{item}'. Pick it from the list.", "未知条目“{item}”。请从列表中选择。"),
    "recommend.error.no_item": ("Pick an item first.", "请先选择一个条目。"),
    "recommend.error.n": ("The number of recommendations must be between 1 and {limit}.", "推荐数量必须在 1 到 {limit} 之间。"),
    "recommend.error.weight": ("The blend must be between 0 (content only) and 1 (collaborative only).",
                               "混合权重必须在 0（仅内容）到 1（仅协同）之间。"),
    "recommend.error.years": ("The year range is empty: {lo} is after {hi}.", "年份范围为空：{lo} 晚于 {hi}。"),
    "recommend.error.genre": ("Unknown genre '{genre}'. Genres: {genres}.", "未知类型“{genre}”。可选：{genres}。"),
    "recommend.because.rated": ("because you rated {items} highly", "因为你给 {items} 打了高分"),
    "recommend.because.rated_any": ("because you rated {items}", "因为你评价过 {items}"),
    "recommend.because.picked": ("because you like {items}", "因为你喜欢 {items}"),
    "recommend.and": (" and ", " 和 "),
    "recommend.reason.audience": ("shared audience: {co} people rated both", "共同受众：{co} 人同时评价过两者"),
    "recommend.reason.content": ("similar content{genres}", "内容相似{genres}"),
    "recommend.reason.genres": (" (both {genres})", "（都属于 {genres}）"),
    "recommend.empty": ("No item passes the filters.", "没有条目符合筛选条件。"),
    "recommend.summary": ("{n} recommendations in {ms:.0f} ms (blend: {w:.0%} collaborative, {c:.0%} content profile).",
                          "{n} 条推荐，用时 {ms:.0f} 毫秒（混合：协同 {w:.0%}，内容画像 {c:.0%}）。"),
    "recommend.summary.seq": (" Your latest ratings count too: what people rated next after them (weight {w:.1f}).",
                              "你最近的评分也参与了推荐：其他人在看过这些电影之后接着评价的电影（权重 {w:.1f}）。"),
    "recommend.summary.seq_picks": (" The order of your picks counts too: what people rated next after your latest "
                                    "picks (weight {w:.1f}).",
                                    "选择的顺序也参与了推荐：其他人在看过你最后选择的电影之后接着评价的电影（权重 {w:.1f}）。"),
    "recommend.summary.alpha": (" Content also shapes the item-item weights (EASE with content, α {alpha:,.0f}).",
                                "内容也参与了物品间权重（带内容的 EASE，α {alpha:,.0f}）。"),
    "recommend.col.rank": ("#", "#"), "recommend.col.title": ("Title", "标题"),
    "recommend.col.genres": ("Genres", "类型"), "recommend.col.score": ("Score", "得分"),
    "recommend.col.why": ("Why", "原因"), "recommend.col.rating": ("Rating", "评分"),
    "recommend.col.date": ("Date", "日期"), "recommend.col.similarity": ("Similarity", "相似度"),
    "recommend.col.collaborative": ("Collaborative", "协同"), "recommend.col.content": ("Content", "内容"),
    "recommend.col.genre": ("Genre", "类型"), "recommend.col.share": ("Share", "占比"),
    "recommend.col.set": ("Set", "集合"),
    "recommend.set.history": ("history", "历史"), "recommend.set.recs": ("recommendations", "推荐"),
})
