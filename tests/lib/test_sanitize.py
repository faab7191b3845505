"""HTML from feeds made safe: scripts, handlers, javascript: links and tracking pixels gone."""

from lib.sanitize import html_to_text, sanitize_html


def test_scripts_styles_and_event_handlers_are_removed():
    html = '<p onclick="steal()" style="color:red">Hola<script>alert(1)</script><style>p{}</style></p>'
    assert sanitize_html(html) == "<p>Hola</p>"


def test_javascript_and_data_links_lose_their_target_and_links_get_safe_rel():
    cleaned = sanitize_html('<a href="javascript:alert(1)">x</a><a href="data:text/html,hi">y</a>')
    assert "javascript" not in cleaned and "data:" not in cleaned
    assert sanitize_html('<a href="https://example.org/">z</a>') == (
        '<a href="https://example.org/" rel="noopener noreferrer nofollow">z</a>'
    )


def test_iframes_forms_and_svg_go_with_their_content():
    cleaned = sanitize_html(
        '<iframe src="https://evil.example"></iframe><svg><script>x</script></svg><p>ok</p>'
    )
    assert cleaned == "<p>ok</p>"


def test_tracking_pixels_are_removed_and_real_images_kept():
    html = (
        '<img src="https://example.org/photo.jpg" alt="Foto">'
        '<img src="https://example.org/t.gif" width="1" height="1">'
        "<IMG SRC='https://pixel.wp.com/g.gif?x=1'>"
        '<img src="https://feeds.feedburner.com/~r/blog/~4/abc">'
        '<img src="https://news.example.org/open.php?id=5">'
    )
    assert sanitize_html(html) == '<img src="https://example.org/photo.jpg" alt="Foto">'


def test_relative_links_are_resolved_against_the_item_link_or_dropped_without_one():
    html = '<a href="/ofertas/1">oferta</a><img src="foto.jpg">'
    assert sanitize_html(html, base_url="https://example.org/news/2") == (
        '<a href="https://example.org/ofertas/1" rel="noopener noreferrer nofollow">oferta</a>'
        '<img src="https://example.org/news/foto.jpg">'
    )
    assert "href" not in sanitize_html('<a href="/ofertas/1">oferta</a>')


def test_unclosed_markup_is_closed():
    assert sanitize_html("<p><b>negrita") == "<p><b>negrita</b></p>"


def test_html_to_text():
    assert html_to_text("<p>Ofertas &amp; cursos</p>\n<ul><li>uno</li></ul><p>dos<br>tres</p>") == (
        "Ofertas & cursos uno dos tres"
    )
    assert html_to_text("sin etiquetas &lt;b&gt;") == "sin etiquetas <b>"
    assert html_to_text("") == ""


def test_html_to_text_can_read_only_the_start_without_half_tags():
    html = '<p>Primer párrafo.</p><p><a href="https://example.org/largo">Segundo</a></p>'
    assert html_to_text(html, limit=30) == "Primer párrafo."
