"""The Recommendations tab: a known user, a new visitor (cold start), similar items, the model card."""
from __future__ import annotations

import gradio as gr

from shared import capture, feedback
from shared.i18n import I18N, request_lang
from shared.ui import HEAVY, HEAVY_LIMIT, progress_adapter, user_errors, examples

from products.recommend import card as model_cards, core, strings  # noqa: F401  (registers the texts)



def _weight(auto, weight):
    return None if auto else weight


def _mine(request) -> tuple[list[str], list[str]]:
    """This visitor's (liked, hidden) item ids from their feedback: counted at once, no refit."""
    items = feedback.session_items(getattr(request, "session_hash", None), "recommend")
    liked = items.get("liked", [])
    return liked, items.get("not_interested", []) + liked


def _noted(table, model_name: str):
    ids = list(table["item_id"]) if "item_id" in table else []
    capture.note(model=model_name, rows=len(ids), memo={"items": ids})


@user_errors
def recommend_user(user, n, auto, weight, genres, year_from, year_to, request: gr.Request = None,
                   progress=gr.Progress()):
    lang = request_lang(request)
    _, hidden = _mine(request)
    table, history, mix, summary = core.for_user(user, n, _weight(auto, weight), genres, (year_from, year_to),
                                                 lang, progress_adapter(progress), hidden=hidden)
    _noted(table, "hybrid")
    return table.drop(columns="item_id"), history, mix, core.score_bars(table, lang), summary


@user_errors
def recommend_cold_start(picks, favourite, n, auto, weight, genres, year_from, year_to, request: gr.Request = None,
                         progress=gr.Progress()):
    lang = request_lang(request)
    liked, hidden = _mine(request)
    table, mix, summary = core.cold_start(picks, favourite, n, _weight(auto, weight), genres, (year_from, year_to),
                                          lang, progress_adapter(progress), liked=liked, hidden=hidden)
    _noted(table, "hybrid fold-in")
    return table.drop(columns="item_id"), mix, core.score_bars(table, lang), summary


@user_errors
def recommend_similar(item, n, auto, weight, genres, year_from, year_to, request: gr.Request = None,
                      progress=gr.Progress()):
    lang = request_lang(request)
    table, summary = core.similar(item, n, _weight(auto, weight), genres, (year_from, year_to), lang,
                                  progress_adapter(progress))
    return (table.drop(columns="item_id") if len(table) else table), summary


@user_errors
def choose(evt: gr.SelectData, request: gr.Request = None):
    """A clicked row of a recommendations table: (its title, its item id)."""
    row = evt.row_value if isinstance(getattr(evt, "row_value", None), list) else None
    title = str(row[1]) if row and len(row) > 1 else str(evt.value)
    return title, core.item_id(title, request_lang(request))


def feedback_row(table, inputs, outputs, action):
    """"Not interested" / "Seen it, liked it" under a table; the recommendations update at once."""
    with gr.Row(equal_height=True):
        chosen = gr.Textbox(label=I18N("recommend.fb.chosen"), interactive=False, scale=3)
        chosen_id = gr.State("")
        feedback.buttons("recommend", [("recommend.fb.not", "not_interested"), ("recommend.fb.liked", "liked")],
                         item=chosen_id, then=lambda event: event.then(action, inputs, outputs,
                                                                      api_visibility="private"))
    table.select(choose, None, [chosen, chosen_id], api_visibility="private", concurrency_limit=4,
                 concurrency_id="recommend-choose")


@user_errors
def model_card(progress=gr.Progress()):
    with core.recommender(progress_adapter(progress)) as model:
        return model_cards.model_card(model)


def build_tab() -> None:
    catalog = core.catalog_choices()
    lo, hi = catalog["years"]
    gr.Markdown(I18N("recommend.intro"))
    with gr.Accordion(I18N("recommend.settings"), open=False):
        with gr.Row():
            auto = gr.Checkbox(value=True, label=I18N("recommend.auto"))
            weight = gr.Slider(0.0, 1.0, value=0.9, step=0.05, label=I18N("recommend.weight"))
            n = gr.Slider(1, core.MAX_N, value=10, step=1, label=I18N("recommend.n"))
        with gr.Row():
            genres = gr.Dropdown(catalog["genres"], multiselect=True, label=I18N("recommend.filter_genres"))
            year_from = gr.Number(value=lo, precision=0, label=I18N("recommend.year_from"))
            year_to = gr.Number(value=hi, precision=0, label=I18N("recommend.year_to"))
    shared = [auto, weight, genres, year_from, year_to]
    # Moving the slider means choosing the blend by hand.
    weight.release(lambda: False, None, auto, queue=False, api_visibility="private")

    with gr.Tab(I18N("recommend.user_tab")):
        with gr.Row():
            user = gr.Dropdown(catalog["users"], value=catalog["users"][0] if catalog["users"] else None,
                               allow_custom_value=True, filterable=True, label=I18N("recommend.user"), scale=3)
            go = gr.Button(I18N("recommend.go"), variant="primary", scale=1)
        summary = gr.Markdown()
        with gr.Row():
            recs = gr.Dataframe(label=I18N("recommend.recs"), wrap=True, max_height=460, scale=3)
            history = gr.Dataframe(label=I18N("recommend.history"), max_height=460, scale=2)
        with gr.Row():
            mix = gr.BarPlot(x="genre", y="share", color="set", label=I18N("recommend.mix"), x_label_angle=-45)
            bars = gr.BarPlot(x="title", y="score", label=I18N("recommend.scores"), sort="-y", x_label_angle=-45)
        if catalog["users"]:
            examples([[u] for u in catalog["users"][:3]], inputs=[user])
        go.click(recommend_user, [user, n] + shared, [recs, history, mix, bars, summary],
                 api_name="recommend_user", concurrency_limit=HEAVY_LIMIT, concurrency_id=HEAVY)
        feedback_row(recs, [user, n] + shared, [recs, history, mix, bars, summary], recommend_user)

    with gr.Tab(I18N("recommend.cold_tab")):
        with gr.Row():
            picks = gr.Dropdown(catalog["items"], multiselect=True, filterable=True, label=I18N("recommend.picks"),
                                scale=3)
            favourite = gr.Dropdown(catalog["genres"], multiselect=True, label=I18N("recommend.fav_genres"), scale=2)
        cold_go = gr.Button(I18N("recommend.go"), variant="primary")
        cold_summary = gr.Markdown()
        cold_recs = gr.Dataframe(label=I18N("recommend.recs"), wrap=True, max_height=460)
        with gr.Row():
            cold_mix = gr.BarPlot(x="genre", y="share", color="set", label=I18N("recommend.mix"), x_label_angle=-45)
            cold_bars = gr.BarPlot(x="title", y="score", label=I18N("recommend.scores"), sort="-y", x_label_angle=-45)
        ids = {item_id for _, item_id in catalog["items"]}
        if {"1", "50", "181"} <= ids:  # Toy Story, Star Wars, Return of the Jedi
            examples([[["1", "50", "181"], ["Sci-Fi"]], [["69", "318"], []]], inputs=[picks, favourite])
        cold_go.click(recommend_cold_start, [picks, favourite, n] + shared, [cold_recs, cold_mix, cold_bars, cold_summary],
                      api_name="recommend_cold_start", concurrency_limit=HEAVY_LIMIT, concurrency_id=HEAVY)
        feedback_row(cold_recs, [picks, favourite, n] + shared, [cold_recs, cold_mix, cold_bars, cold_summary],
                     recommend_cold_start)

    with gr.Tab(I18N("recommend.similar_tab")):
        with gr.Row():
            item = gr.Dropdown(catalog["items"], filterable=True, label=I18N("recommend.item"), scale=3)
            sim_go = gr.Button(I18N("recommend.find"), variant="primary", scale=1)
        sim_summary = gr.Markdown()
        sim_table = gr.Dataframe(label=I18N("recommend.similar"), wrap=True, max_height=460)
        if {"50"} <= ids:
            examples([["50"], ["1"]], inputs=[item])
        sim_go.click(recommend_similar, [item, n] + shared, [sim_table, sim_summary], api_name="recommend_similar",
                     concurrency_limit=HEAVY_LIMIT, concurrency_id=HEAVY)

    with gr.Tab(I18N("recommend.card_tab")):
        card_go = gr.Button(I18N("recommend.card_go"))
        card = gr.Markdown(model_cards.model_card())
        card_go.click(model_card, None, card, api_name="recommend_model_card",
                      concurrency_limit=HEAVY_LIMIT, concurrency_id=HEAVY)
