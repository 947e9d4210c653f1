"""The project's own template tags: what they render and that they render it inert."""

from __future__ import annotations

from collections.abc import Sequence

from django.template import Context, Template

OPTIONS = Template("{% load definitions_tags %}<select>{% options choices chosen %}</select>")


def render_options(choices: Sequence[tuple[object, ...]], chosen: object) -> str:
    return OPTIONS.render(Context({"choices": choices, "chosen": chosen}))


def test_options_lists_an_empty_choice_first_and_marks_the_chosen_value() -> None:
    html = render_options([("a", "Alpha"), ("b", "Beta")], "b")
    assert html == (
        '<select><option value="">—</option><option value="a">Alpha</option>'
        '<option value="b" selected>Beta</option></select>'
    )


def test_options_with_a_keyboard_digit_show_it_and_carry_it_for_the_script() -> None:
    html = render_options([("no_budget", "No budget", 1), ("other", "Other", -1)], None)
    assert '<option value="no_budget" data-digit="1">1 · No budget</option>' in html
    assert '<option value="other">Other</option>' in html  # no digit: by click only
    assert "selected" not in html


def test_options_escape_labels_and_values() -> None:
    html = render_options([('"><script>x</script>', "<b>bold</b>")], '"><script>x</script>')
    assert "<script>" not in html and "<b>" not in html
    assert "&lt;b&gt;bold&lt;/b&gt;" in html
    assert "selected" in html


def test_options_for_the_same_list_with_another_choice_are_not_mixed_up() -> None:
    choices = [("a", "Alpha"), ("b", "Beta")]
    assert 'value="a" selected' in render_options(choices, "a")
    assert 'value="b" selected' in render_options(choices, "b")
    assert "selected" not in render_options(choices, "")


def test_the_language_switch_names_each_language_in_itself() -> None:
    html = Template(
        "{% load definitions_tags %}{% language_choices as langs %}"
        "{% for code, name in langs %}{{ code }}={{ name }};{% endfor %}"
    ).render(Context())
    assert html == "en=English;it=italiano;pt=Português;fr=français;ja=日本語;"


def test_options_without_the_empty_choice() -> None:
    html = Template("{% load definitions_tags %}{% options choices 'b' blank=False %}").render(
        Context({"choices": [("a", "Alpha"), ("b", "Beta")]})
    )
    assert html == '<option value="a">Alpha</option><option value="b" selected>Beta</option>'
