"""products/copy/llama_batch.py: the batch arithmetic of the llama.cpp engine, without a model."""
from products.copy.llama_batch import common_prefix, complete_utf8, utf8_cut


def test_the_shared_prefix_leaves_every_row_a_token_of_its_own():
    assert common_prefix([]) == 0
    assert common_prefix([[1, 2, 3, 4], [1, 2, 3, 5], [1, 2, 9]]) == 2
    assert common_prefix([[1, 2, 3], [1, 2, 3]]) == 2  # identical prompts: the last token is each row's own
    assert common_prefix([[7]]) == 0 and common_prefix([[1, 2], [3, 4]]) == 0


def test_a_utf8_cut_never_ends_inside_a_character():
    text = "咖啡 ok".encode("utf-8")  # two 3-byte characters, then ASCII
    for end in range(len(text) + 1):
        part = text[:end]
        cut = utf8_cut(part)
        part[:cut].decode("utf-8")  # never raises
        assert complete_utf8(part) == (cut == end)
    assert utf8_cut("咖".encode("utf-8")[:2]) == 0
    assert utf8_cut("a😀".encode("utf-8")[:4]) == 1 and complete_utf8("a😀".encode("utf-8"))
