"""A bill (``domain.bill.BillView``) drawn in Danish: as HTML, as a PDF, and the PDF's first
page as a PNG.

Both renderers draw one ``_Layout``, the view with every figure already formatted, so the
HTML and the PDF cannot say different things. Nothing is computed here except Danish
formatting: amounts arrive as Decimals and leave as strings (babel, never a float), a
period's exclusive end is printed as its last day, and a negative amount due is printed as
what is paid out.

Speed: a quarter is ~80,000 bills, and a PDF takes ~3-5 ms on one core. fpdf2 would spend
~15 ms per font and document subsetting the TrueType font and ~15 ms breaking lines through
cell()/multi_cell(); here the font is cut and turned into PDF streams once per process
(``_fonts``, embedded by ``_Producer``) and text is placed with text() at positions computed
here, its wrapping cached.
"""

from __future__ import annotations

import functools
import html
import io
import tempfile
import threading
import unicodedata
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from importlib import resources
from pathlib import Path

from babel import Locale
from babel.dates import format_date
from babel.numbers import format_decimal
from fontTools import subset as font_subset
from fpdf import FPDF
from fpdf.fonts import PDFFontDescriptor, TTFFont
from fpdf.output import (
    CIDSystemInfo,
    OutputProducer,
    PDFExtGState,
    PDFFont,
    PDFType3Font,
    PDFXObject,
)
from fpdf.pattern import Pattern
from fpdf.syntax import Name, PDFArray, PDFContentStream

from wattline_invoicing.domain.bill import BillLine, BillView, MeteringPointSection

LOCALE = Locale.parse("da_DK")  # parsed once: babel would parse a locale name on every call
KINDS = {"invoice": "Faktura", "credit_note": "Kreditnota"}

# Open Sans ships inside the ttf-opensans wheel (Apache 2.0), so a fresh machine needs no
# system fonts. The FI code line uses the PDF's built-in Courier: it is ASCII only, every
# PDF reader has Courier, and a fixed pitch is what keeps it readable for the payer.
_FONT_PACKAGE = "ttf_opensans"
_FONT_FILES = {"": "OpenSans-Regular.ttf", "B": "OpenSans-Bold.ttf"}
_FAMILY = "OpenSans"
_MONO = "Courier"

# What the PDF can print: Latin-1 and Latin Extended-A (Danish, and the names and addresses
# of the rest of Europe's Latin scripts), Romanian ș ț, and the typographic marks a bill or an
# address uses. The font is cut to these once per process (see _fonts); anything else is
# replaced in the PDF (see _printable), never in the HTML.
_CHARSET = (
    "".join(
        chr(code)
        for first, last in ((0x20, 0x7E), (0xA0, 0x17F), (0x218, 0x21B))
        for code in range(first, last + 1)
    )
    + "\u2013\u2014\u2018\u2019\u201a\u201c\u201d\u201e\u2022\u2026\u20ac\u2212"
)
DASH = "\u2013"  # en dash: between dates, and for "none"


# --- Danish formatting ----------------------------------------------------------------------


def _number(value: Decimal, pattern: str) -> str:
    # decimal_quantization=False: a figure with more decimals than the pattern is shown as
    # given, never rounded here (rounding belongs to settlement).
    return format_decimal(value, format=pattern, locale=LOCALE, decimal_quantization=False)


def kroner(amount: Decimal) -> str:
    """``Decimal("-1234.5")`` → ``"-1.234,50 kr."``."""
    return f"{_number(amount, '#,##0.00')} kr."


def kwh(quantity: Decimal) -> str:
    """``Decimal("409.2")`` → ``"409,200 kWh"``."""
    return f"{_number(quantity, '#,##0.000')} kWh"


def unit_price(price: Decimal) -> str:
    """A unit price with its six decimals: ``Decimal("0.008")`` → ``"0,008000"``."""
    return _number(price, "#,##0.000000")


def long_date(day: date) -> str:
    """``7. april 2025``."""
    return format_date(day, "d. MMMM y", locale=LOCALE)


def short_date(day: date) -> str:
    """``07.04.2025``."""
    return format_date(day, "dd.MM.y", locale=LOCALE)


def period(start: date, end_exclusive: date) -> str:
    """``1. januar 2025 \u2013 31. marts 2025``: the model's end is exclusive, a bill prints
    the last day."""
    return f"{long_date(start)} {DASH} {long_date(end_exclusive - timedelta(days=1))}"


# --- The layout both renderers draw ---------------------------------------------------------


@dataclass(frozen=True)
class _Row:
    label: str
    amount: str
    strong: bool = False
    indent: bool = False


@dataclass(frozen=True)
class _LineRow:
    label: str
    quantity: str
    price: str
    amount: str


@dataclass(frozen=True)
class _Section:
    facts: tuple[tuple[str, str], ...]
    lines: tuple[_LineRow, ...]
    totals: tuple[_Row, ...]


@dataclass(frozen=True)
class _Layout:
    title: str  # "Faktura" or "Kreditnota"
    number: str
    corrects: str | None  # "vedrørende faktura …"
    supplier_name: str
    supplier_lines: tuple[str, ...]
    payer_lines: tuple[str, ...]
    facts: tuple[tuple[str, str], ...]
    overview: tuple[_Row, ...]
    payment: tuple[str, ...]
    fi_code_line: str | None
    sections: tuple[_Section, ...]
    notices: tuple[tuple[str, str], ...]


def _overview(view: BillView) -> tuple[_Row, ...]:
    rows = [_Row("Opgørelse af perioden", kroner(view.total))]
    # A payer on aconto sees what was prepaid and the difference; for anyone else those
    # rows would only be zeros. The sums themselves come from the view, not from here.
    if view.aconto_paid or view.next_prepayment:
        rows.append(_Row("Betalt aconto", kroner(-view.aconto_paid)))
        rows.append(_Row("Difference", kroner(view.difference), strong=True))
    if view.next_prepayment:
        label = "Forudbetaling"
        if view.next_prepayment_period:
            label = f"Forudbetaling {view.next_prepayment_period}"
        rows.append(_Row(label, kroner(view.next_prepayment)))
    if view.other_items:
        rows.append(_Row("Øvrige poster", ""))
        rows.extend(_Row(label, kroner(amount), indent=True) for label, amount in view.other_items)
    if view.amount_due < 0:
        rows.append(_Row("Til udbetaling", kroner(-view.amount_due), strong=True))
    else:
        rows.append(_Row("Beløb til betaling", kroner(view.amount_due), strong=True))
    return tuple(rows)


def _payment(view: BillView) -> tuple[str, ...]:
    method = f"Betalingsmåde: {view.payment_method}"
    if view.amount_due < 0:
        return (f"Beløbet på {kroner(-view.amount_due)} udbetales til dig.", method)
    if view.amount_due == 0:
        return ("Der er intet at betale.",)
    return (f"Beløbet betales senest {short_date(view.due_date)}.", method)


def _line(line: BillLine) -> _LineRow:
    if line.quantity is not None:
        quantity, per = kwh(line.quantity), "kWh"
    elif line.days is not None:
        quantity, per = (f"{line.days} dag" if line.days == 1 else f"{line.days} dage"), "dag"
    else:
        quantity, per = "", ""
    price = ""
    if line.unit_price is not None:
        price = f"{unit_price(line.unit_price)} kr./{per}" if per else unit_price(line.unit_price)
    return _LineRow(line.label, quantity, price, kroner(line.amount))


def _section(section: MeteringPointSection) -> _Section:
    last_year = DASH
    if section.kwh_same_period_last_year is not None:
        last_year = kwh(section.kwh_same_period_last_year)
    facts = (
        ("Målepunkt (GSRN)", section.gsrn),
        ("Adresse", ", ".join(section.address_lines)),
        ("Periode", period(section.period_start, section.period_end)),
        ("Forbrug", f"{kwh(section.kwh)} ({section.kwh_basis})"),
        ("Samme periode sidste år", last_year),
    )
    totals = (
        _Row("I alt ekskl. moms", kroner(section.subtotal)),
        _Row("Moms 25 %", kroner(section.vat)),
        _Row("I alt inkl. moms", kroner(section.total), strong=True),
    )
    return _Section(facts, tuple(_line(line) for line in section.lines), totals)


def _notices(view: BillView) -> tuple[tuple[str, str], ...]:
    supplier = view.supplier
    products = ", ".join(view.product_names) or DASH
    contact = (
        f"{supplier.name}, {', '.join(supplier.address_lines)}. Telefon {supplier.phone}, "
        f"e-mail {supplier.email}, {supplier.website}. CVR-nr. {supplier.cvr}."
    )
    return (
        ("Dit produkt", products),
        (
            "Skift af elleverandør",
            "Du kan frit skifte elleverandør uden gebyr. Det er din nye elleverandør, der "
            "står for skiftet via DataHub; du skal blot aftale det med den nye leverandør. "
            "Priser og produkter kan sammenlignes på elpris.dk.",
        ),
        (
            "Klager",
            "Er du uenig i din regning, så kontakt os først. Kan vi ikke blive enige, kan du "
            "klage til Ankenævnet på Energiområdet, www.energianke.dk.",
        ),
        ("Kontakt", contact),
    )


def _layout(view: BillView) -> _Layout:
    try:
        title = KINDS[view.kind]
    except KeyError:
        raise ValueError(f"unknown bill kind {view.kind!r}") from None
    number_label = "Kreditnotanummer" if view.kind == "credit_note" else "Fakturanummer"
    facts: list[tuple[str, str]] = [
        ("Kundenummer", str(view.account_number)),
        (number_label, view.number),
    ]
    facts += [
        ("Fakturadato", short_date(view.issue_date)),
        ("Forfaldsdato", short_date(view.due_date)),
        ("Periode", period(view.period_start, view.period_end)),
    ]
    supplier = view.supplier
    corrects = None
    if view.corrects_number is not None:
        corrects = f"vedrørende faktura {view.corrects_number}"
    return _Layout(
        title=title,
        number=view.number,
        corrects=corrects,
        supplier_name=supplier.name,
        supplier_lines=(*supplier.address_lines, f"CVR-nr. {supplier.cvr}"),
        payer_lines=(view.payer_name, *view.payer_address_lines),
        facts=tuple(facts),
        overview=_overview(view),
        payment=_payment(view),
        fi_code_line=view.fi_code_line,
        sections=tuple(_section(section) for section in view.sections),
        notices=_notices(view),
    )


# --- HTML -----------------------------------------------------------------------------------

_CSS = """
body { font-family: "Open Sans", Arial, sans-serif; font-size: 10pt; color: #111; }
.page { max-width: 180mm; margin: 0 auto 12mm; }
.page + .page { break-before: page; }
header { display: flex; justify-content: space-between; }
.payer, table.bill-facts { display: inline-block; vertical-align: top; width: 48%; }
table.mp-facts th { width: 50mm; font-weight: normal; }
table { border-collapse: collapse; width: 100%; margin: 4mm 0; }
td, th { padding: 1mm 2mm; text-align: left; }
td.n, th.n { text-align: right; white-space: nowrap; }
tr.strong td { font-weight: bold; border-top: 1px solid #111; }
tr.indent td:first-child { padding-left: 6mm; }
.fi-block { margin-top: 10mm; padding-top: 2mm; border-top: 1px solid #111; }
.fi { font-family: "Courier New", Courier, monospace; font-size: 12pt; white-space: pre; }
"""


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _html_rows(rows: Iterable[_Row]) -> str:
    out = []
    for row in rows:
        classes = " ".join(c for c, on in (("strong", row.strong), ("indent", row.indent)) if on)
        attr = f' class="{classes}"' if classes else ""
        out.append(f'<tr{attr}><td>{_e(row.label)}</td><td class="n">{_e(row.amount)}</td></tr>')
    return "\n".join(out)


def _html_facts(facts: Iterable[tuple[str, str]]) -> str:
    return "\n".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in facts)


def _html_section(section: _Section) -> str:
    lines = "\n".join(
        f'<tr><td>{_e(line.label)}</td><td class="n">{_e(line.quantity)}</td>'
        f'<td class="n">{_e(line.price)}</td><td class="n">{_e(line.amount)}</td></tr>'
        for line in section.lines
    )
    return (
        f'<section class="metering-point"><table class="mp-facts">{_html_facts(section.facts)}'
        '</table><table class="lines"><thead><tr><th>Beskrivelse</th><th class="n">Mængde</th>'
        '<th class="n">Enhedspris ekskl. moms</th><th class="n">Beløb ekskl. moms</th></tr>'
        f'</thead><tbody>{lines}</tbody></table><table class="totals">'
        f"{_html_rows(section.totals)}</table></section>"
    )


def render_html(view: BillView) -> str:
    """The bill as one HTML document (UTF-8, no external resources); every text from the view
    is escaped, since names and addresses are what customers typed."""
    layout = _layout(view)
    br = "<br>"
    fi = ""
    if layout.fi_code_line is not None:
        fi = (
            '<div class="fi-block"><div>Indbetalingskort (FI-kort)</div>'
            f'<div class="fi">{_e(layout.fi_code_line)}</div></div>'
        )
    notices = "\n".join(f"<h3>{_e(h)}</h3><p>{_e(t)}</p>" for h, t in layout.notices)
    corrects = "" if layout.corrects is None else f"<p>{_e(layout.corrects)}</p>"
    return f"""<!DOCTYPE html>
<html lang="da">
<head><meta charset="utf-8"><title>{_e(layout.title)} {_e(layout.number)}</title>
<style>{_CSS}</style></head>
<body>
<section class="page">
<header><div class="supplier"><strong>{_e(layout.supplier_name)}</strong><br>
{br.join(_e(line) for line in layout.supplier_lines)}</div>
<div class="title"><h1>{_e(layout.title)}</h1>{corrects}</div></header>
<div class="payer">{br.join(_e(line) for line in layout.payer_lines)}</div>
<table class="bill-facts">{_html_facts(layout.facts)}</table>
<h2>Oversigt</h2>
<table class="overview">{_html_rows(layout.overview)}</table>
<div class="payment">{br.join(_e(line) for line in layout.payment)}</div>
{fi}
</section>
<section class="page">
<h2>Specifikation</h2>
{"".join(_html_section(section) for section in layout.sections)}
{notices}
</section>
</body>
</html>
"""


# --- The e-mail a bill goes out with ---------------------------------------------------------


def email_text(view: BillView) -> str:
    """The short Danish plain text an e-mailed bill carries: what it is, what to pay by
    when (with the FI line to type into a bank), that the bill is the attached PDF, and how
    to reach us. Every figure as the bill prints it."""
    title = KINDS.get(view.kind, view.kind).lower()
    opening = f"Hermed din {title} {view.number} fra {view.supplier.name}"
    if view.corrects_number:
        opening += f", som retter faktura {view.corrects_number}"
    lines = [f"Kære {view.payer_name}", "", f"{opening}.", ""]
    lines.append(f"Periode: {period(view.period_start, view.period_end)}")
    if view.amount_due > 0:
        lines.append(
            f"Beløb til betaling: {kroner(view.amount_due)}, senest {long_date(view.due_date)}"
        )
        lines.append(f"Betalingsmåde: {view.payment_method}")
        if view.fi_code_line:
            lines.append(f"Indbetalingskort (FI-kort): {view.fi_code_line}")
    elif view.amount_due < 0:
        lines.append(f"Til udbetaling: {kroner(-view.amount_due)}; beløbet udbetales til dig.")
    else:
        lines.append("Der er intet at betale.")
    supplier = view.supplier
    lines += [
        "",
        f"Du finder {title}en som PDF i denne e-mail.",
        "",
        f"Har du spørgsmål, så ring på {supplier.phone} eller skriv til {supplier.email}.",
        "",
        "Venlig hilsen",
        supplier.name,
        "",
    ]
    return "\n".join(lines)


# --- PDF: fonts, cut and encoded once per process -------------------------------------------
#
# fpdf2 embeds a TrueType font by subsetting it with fontTools for every document: ~15 ms per
# font and document, most of a bill's time. Instead, each process cuts Open Sans once to the
# characters a bill may print, fixes the code of every character (all are picked up front, in
# code point order, so every document encodes text alike) and builds the font's PDF streams
# once; ``_Producer`` then embeds those streams in each document as they are. Each PDF carries
# the whole cut font (~14 kB per style, compressed) instead of just the glyphs it used.

_SUBSET_TAG = "WATTLN"  # a PDF names an embedded subset "<six capitals>+<font>"
_PT_PER_MM = 72 / 25.4


@dataclass(frozen=True)
class _EmbeddedFont:
    style: str  # "" or "B"
    key: str  # fpdf2's font key: family in lower case + style
    font: TTFFont  # shared by the documents of the process; every code is already picked
    base_font: str
    widths: str  # the CIDFont's /W array
    to_unicode: bytes  # zlib'd: code → character, for copying and searching text
    cid_to_gid: bytes  # zlib'd: code → glyph of the embedded program
    program: bytes  # zlib'd TrueType program
    program_length: int


@dataclass(frozen=True)
class _Fonts:
    by_style: dict[str, _EmbeddedFont]  # "" and "B", in the order fpdf2 numbered them
    printable: frozenset[str]  # characters every style can draw


def _cut_font(source: Path, target: Path) -> None:
    options = font_subset.Options()
    # fpdf2 neither shapes nor kerns without HarfBuzz, and PDF viewers do without TrueType
    # hints: dropping both makes the embedded program a third smaller.
    options.layout_features = []
    options.hinting = False
    options.drop_tables += ["GDEF", "GPOS", "GSUB", "kern", "hdmx", "DSIG", "FFTM"]
    options.name_IDs = ["*"]  # keep the copyright and licence records with the font
    options.notdef_outline = True
    options.recommended_glyphs = True
    font = font_subset.load_font(str(source), options)
    subsetter = font_subset.Subsetter(options)
    subsetter.populate(text=_CHARSET)
    subsetter.subset(font)
    font_subset.save_font(font, str(target), options)


def _widths_array(widths: dict[int, int]) -> str:
    # /W as runs of consecutive codes: [first [w w w] first [w w] ...]
    runs: list[str] = []
    codes = sorted(widths)
    start = 0
    while start < len(codes):
        end = start
        while end + 1 < len(codes) and codes[end + 1] == codes[end] + 1:
            end += 1
        run = " ".join(str(widths[code]) for code in codes[start : end + 1])
        runs.append(f"{codes[start]} [{run}]")
        start = end + 1
    return f"[{' '.join(runs)}]"


def _to_unicode_cmap(characters: dict[int, str]) -> bytes:
    entries = [
        f"<{code:04X}> <{char.encode('utf-16-be').hex().upper()}>"
        for code, char in sorted(characters.items())
    ]
    blocks = [
        f"{len(block)} beginbfchar\n" + "\n".join(block) + "\nendbfchar"
        for block in (entries[i : i + 100] for i in range(0, len(entries), 100))
    ]
    cmap = (
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
        "/CIDSystemInfo <</Registry (Adobe) /Ordering (UCS) /Supplement 0>> def\n"
        "/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
        "1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n"
        + "\n".join(blocks)
        + "\nendcmap\nCMapName currentdict /CMap defineresource pop\nend\nend"
    )
    return zlib.compress(cmap.encode("ascii"))


def _embed(style: str, font: TTFFont, program: bytes) -> _EmbeddedFont:
    # Every character gets its code now, in code point order; a document never adds one
    # (text outside the font is replaced first), so the streams below fit every document.
    for code in sorted(font.cmap):
        font.subset.pick(code)
    widths: dict[int, int] = {}
    characters: dict[int, str] = {}
    cid_to_gid = bytearray(2 * 0x10000)
    for glyph, code in font.subset.items():
        if glyph is None:
            continue
        gid = font.ttfont.getGlyphID(glyph.glyph_name)
        cid_to_gid[2 * code : 2 * code + 2] = gid.to_bytes(2, "big")
        widths[code] = glyph.glyph_width
        if isinstance(glyph.unicode, tuple) and glyph.unicode and glyph.unicode != (0,):
            characters[code] = "".join(chr(u) for u in glyph.unicode)
    return _EmbeddedFont(
        style=style,
        key=font.fontkey,
        font=font,
        base_font=f"{_SUBSET_TAG}+{font.name}",
        widths=_widths_array(widths),
        to_unicode=_to_unicode_cmap(characters),
        cid_to_gid=zlib.compress(bytes(cid_to_gid)),
        program=zlib.compress(program),
        program_length=len(program),
    )


_FONTS: list[_Fonts] = []
_FONTS_LOCK = threading.Lock()


def _fonts() -> _Fonts:
    """The process's fonts, made on first use. Exactly one set per process, even when threads
    race for the first bill: ``_Producer`` recognises its fonts by identity."""
    if not _FONTS:
        with _FONTS_LOCK:
            if not _FONTS:
                _FONTS.append(_make_fonts())
    return _FONTS[0]


def _make_fonts() -> _Fonts:
    loader = FPDF()
    embedded = []
    with tempfile.TemporaryDirectory(prefix="wattline-bill-fonts-") as folder:
        for style, name in _FONT_FILES.items():
            target = Path(folder) / name
            with resources.as_file(resources.files(_FONT_PACKAGE).joinpath("ttf", name)) as src:
                _cut_font(src, target)
            loader.add_font(_FAMILY, style, target)
            font = loader.fonts[f"{_FAMILY.lower()}{style}"]
            assert isinstance(font, TTFFont)
            embedded.append(_embed(style, font, target.read_bytes()))
            # Everything the documents need from the font file is read; a later read of it
            # would be a mistake, and should fail rather than pass.
            font.ttfont.close()
    printable = frozenset.intersection(*(frozenset(map(chr, e.font.cmap)) for e in embedded))
    return _Fonts({e.style: e for e in embedded}, printable)


class _Stream(PDFContentStream):
    """A stream whose bytes are zlib'd already (once per process, not per document)."""

    def __init__(self, compressed: bytes, length1: int | None = None) -> None:
        super().__init__(compressed, compress=False)
        self.filter = Name("FlateDecode")
        self.length1 = length1  # the uncompressed size, for a font program


class _FontDescriptor(PDFFontDescriptor):
    def __init__(self, like: PDFFontDescriptor, name: str, program: _Stream) -> None:
        super().__init__(
            ascent=like.ascent,
            descent=like.descent,
            cap_height=like.cap_height,
            flags=like.flags,
            font_b_box=like.font_b_box,
            italic_angle=like.italic_angle,
            stem_v=like.stem_v,
            missing_width=like.missing_width,
        )
        self.font_name = Name(name)
        self.font_file2 = program


class _Producer(OutputProducer):
    """fpdf2's output, except that our TrueType fonts are embedded from ``_fonts()``'s
    streams; any other font (Courier, for the FI line) goes through fpdf2 as usual."""

    def _add_fonts(
        self,
        image_objects_per_index: dict[int, PDFXObject],
        gfxstate_objs_per_name: dict[str, PDFExtGState],
        pattern_objs_per_name: dict[str, Pattern],
    ) -> dict[int, PDFFont | PDFType3Font]:
        registry = self.fpdf.fonts  # a read-only property: the dict is changed in place
        every_font = dict(registry)
        ours = [e for e in _fonts().by_style.values() if every_font.get(e.key) is e.font]
        for embedded in ours:
            del registry[embedded.key]
        try:
            objects = super()._add_fonts(
                image_objects_per_index, gfxstate_objs_per_name, pattern_objs_per_name
            )
        finally:
            registry.clear()
            registry.update(every_font)
        for embedded in ours:
            objects[embedded.font.i] = self._add_embedded(embedded)
        return objects

    def _add_embedded(self, embedded: _EmbeddedFont) -> PDFFont:
        font = embedded.font
        composite = PDFFont(subtype="Type0", base_font=embedded.base_font, encoding="Identity-H")
        cid_font = PDFFont(
            subtype="CIDFontType2",
            base_font=embedded.base_font,
            d_w=font.desc.missing_width,
            w=embedded.widths,
        )
        composite.descendant_fonts = PDFArray([cid_font])
        composite.to_unicode = _Stream(embedded.to_unicode)
        cid_font.c_i_d_system_info = CIDSystemInfo()
        program = _Stream(embedded.program, length1=embedded.program_length)
        cid_font.font_descriptor = _FontDescriptor(font.desc, embedded.base_font, program)
        cid_font.c_i_d_to_g_i_d_map = _Stream(embedded.cid_to_gid)
        for obj in (
            composite,
            cid_font,
            composite.to_unicode,
            cid_font.c_i_d_system_info,
            cid_font.font_descriptor,
            program,
            cid_font.c_i_d_to_g_i_d_map,
        ):
            self._add_pdf_obj(obj, "fonts")
        return composite


# --- PDF: drawing ---------------------------------------------------------------------------
#
# Text is placed with fpdf2's text() at positions computed here, and wrapped here (cached: the
# notices are the same on every bill). cell() and multi_cell() measure and break every string
# through fpdf2's fragment machinery, which cost more than the rest of a bill together.

_LEFT = 20.0  # mm; A4 is 210 by 297
_RIGHT = 190.0
_BOTTOM = 275.0  # below it only the footer
_LINE_EDGES = (88.0, 124.0, 162.0, _RIGHT)  # label ends, then the right edges of the numbers


def _printable(text: str) -> str:
    """*text* with what Open Sans (as cut) cannot draw replaced: a compatibility character by
    its letters (Ǆ → DŽ), an accented letter by its base letter, anything else by "?". fpdf2
    would drop a character the font lacks without a trace."""
    printable = _fonts().printable
    if printable.issuperset(text):
        return text
    out = []
    for char in text:
        if char in printable:
            out.append(char)
            continue
        composed = unicodedata.normalize("NFKC", char)
        if printable.issuperset(composed):
            out.append(composed)
            continue
        letters = [c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c)]
        out.append("".join(letters) if letters and printable.issuperset(letters) else "?")
    return "".join(out)


def _width(text: str, style: str, size: float) -> float:
    """The width of *text* in mm."""
    return _fonts().by_style[style].font.get_text_width(text, size, None)[1] / _PT_PER_MM


@functools.lru_cache(maxsize=4096)
def _wrap(text: str, style: str, size: float, width: float) -> tuple[str, ...]:
    """*text* broken into lines at most *width* mm wide: at its line breaks, and at spaces (a
    word longer than a line is cut)."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for word in _printable(paragraph).split(" "):
            candidate = f"{line} {word}" if line else word
            if _width(candidate, style, size) <= width:
                line = candidate
                continue
            if line:
                lines.append(line)
            line = word
            while _width(line, style, size) > width and len(line) > 1:
                cut = len(line) - 1
                while cut > 1 and _width(line[:cut], style, size) > width:
                    cut -= 1
                lines.append(line[:cut])
                line = line[cut:]
        lines.append(line)
    return tuple(lines)


class _Pen:
    """Draws on an fpdf2 document from the top down; ``y`` is the next line's top (mm)."""

    def __init__(self, layout: _Layout) -> None:
        pdf = FPDF(orientation="portrait", unit="mm", format="A4")
        pdf.set_auto_page_break(auto=False)
        # Our fonts first and in their order, so their numbers are those _fonts() gave them.
        for embedded in _fonts().by_style.values():
            pdf.fonts[embedded.key] = embedded.font
        pdf.set_lang("da")
        pdf.set_title(f"{layout.title} {layout.number}")
        pdf.set_author(layout.supplier_name)
        pdf.set_creator("Wattline")
        self.pdf = pdf
        self.footer = layout.supplier_name
        self.y = 0.0
        self._font: tuple[str, float] | None = None

    def page(self) -> None:
        self.finish_page()
        self.pdf.add_page()
        self.y = 15.0

    def finish_page(self) -> None:
        # The footer goes last, so that text extracted from a page reads from the top.
        if self.pdf.page:
            self.write(f"{self.footer} · side {self.pdf.page_no()}", size=7, y=287.0, align="C")

    def fits(self, height: float) -> None:
        if self.y + height > _BOTTOM:
            self.page()

    def _use(self, style: str, size: float) -> None:
        if self._font != (style, size):
            self.pdf.set_font(_FAMILY, style, size)
            self._font = (style, size)

    def write(
        self,
        text: str,
        *,
        x: float = _LEFT,
        y: float | None = None,
        style: str = "",
        size: float = 9.0,
        align: str = "L",
        right: float = _RIGHT,
    ) -> None:
        """One line whose top is at *y* (default: the pen's); "R" ends it at *right*, "C"
        centres it on the page."""
        text = _printable(text)
        self._use(style, size)
        top = self.y if y is None else y
        if align == "R":
            x = right - _width(text, style, size)
        elif align == "C":
            x = (self.pdf.w - _width(text, style, size)) / 2
        # text() takes the baseline; a line's top is ~0.8 of the font size above it.
        self.pdf.text(x, top + 0.8 * size / _PT_PER_MM, text)

    def paragraph(
        self,
        text: str,
        *,
        x: float = _LEFT,
        width: float = _RIGHT - _LEFT,
        style: str = "",
        size: float = 9.0,
        leading: float = 4.5,
    ) -> None:
        for line in _wrap(text, style, size, width):
            self.write(line, x=x, style=style, size=size)
            self.y += leading

    def rule(self, x: float = _LEFT) -> None:
        self.pdf.set_line_width(0.2)
        self.pdf.line(x, self.y, _RIGHT, self.y)

    def rows(self, rows: Iterable[_Row], *, label_x: float = _LEFT, leading: float = 5.5) -> None:
        for row in rows:
            if row.strong:
                self.rule(label_x)
                self.y += 0.8
            style = "B" if row.strong else ""
            self.write(row.label, x=label_x + (6.0 if row.indent else 0.0), style=style)
            self.write(row.amount, style=style, align="R")
            self.y += leading


def _pdf_page_one(pen: _Pen, layout: _Layout) -> None:
    pen.page()
    pen.write(layout.supplier_name, y=18, style="B", size=13)
    pen.write(layout.title, y=16, style="B", size=20, align="R")
    if layout.corrects is not None:
        pen.write(layout.corrects, y=25, size=9, align="R")
    pen.y = 25.0
    for line in layout.supplier_lines:
        pen.write(line, size=8)
        pen.y += 3.8

    # The payer where a C5/DL window envelope shows an address; the facts beside it.
    pen.y = 48.0
    pen.paragraph("\n".join(layout.payer_lines), width=85.0, size=10, leading=5.0)
    after_payer = pen.y
    pen.y = 48.0
    for label, value in layout.facts:
        pen.write(label, x=118.0, size=8.5)
        pen.write(value, style="B", size=8.5, align="R")
        pen.y += 5.0
    pen.y = max(after_payer, pen.y) + 10.0

    pen.write("Oversigt", style="B", size=12)
    pen.y += 8.0
    pen.rows(layout.overview)
    pen.y += 5.0
    for line in layout.payment:
        pen.write(line)
        pen.y += 5.0

    if layout.fi_code_line is not None:
        # The FI strip at the foot of the page, where a paper giro card has it.
        pen.y = 250.0
        pen.rule()
        pen.y += 3.0
        pen.write(f"Indbetalingskort (FI-kort) {DASH} indtast koden i din netbank", size=8)
        pdf = pen.pdf
        pdf.set_font(_MONO, "", 13)
        pen._font = None
        code = layout.fi_code_line
        pdf.text(_RIGHT - pdf.get_string_width(code), pen.y + 12.0, code)


def _pdf_section(pen: _Pen, section: _Section) -> None:
    # A metering point's facts stay with its table head and first lines.
    pen.fits(5.0 * len(section.facts) + 30.0)
    for label, value in section.facts:
        pen.write(label)
        top = pen.y
        pen.paragraph(
            value,
            x=68.0,
            width=_RIGHT - 68.0,
            style="B" if label.startswith("Målepunkt") else "",
            leading=5.0,
        )
        pen.y = max(pen.y, top + 5.0)
    pen.y += 2.0
    label_end, quantity_edge, price_edge, amount_edge = _LINE_EDGES
    headings = (
        ("Mængde", quantity_edge),
        ("Enhedspris ekskl. moms", price_edge),
        ("Beløb ekskl. moms", amount_edge),
    )
    pen.write("Beskrivelse", style="B", size=8)
    for heading, edge in headings:
        pen.write(heading, style="B", size=8, align="R", right=edge)
    pen.y += 5.0
    pen.rule()
    pen.y += 1.0
    for line in section.lines:
        pen.fits(5.0)
        labels = _wrap(line.label, "", 8.5, label_end - _LEFT - 2.0)
        pen.write(labels[0], size=8.5)
        for value, edge in (
            (line.quantity, quantity_edge),
            (line.price, price_edge),
            (line.amount, amount_edge),
        ):
            pen.write(value, size=8.5, align="R", right=edge)
        for label in labels[1:]:
            pen.y += 4.6
            pen.write(label, size=8.5)
        pen.y += 4.6
    pen.rule()
    pen.y += 1.5
    pen.fits(18.0)
    pen.rows(section.totals, label_x=110.0)
    pen.y += 6.0


def _pdf_page_two(pen: _Pen, layout: _Layout) -> None:
    pen.page()
    pen.write("Specifikation", style="B", size=12)
    pen.y += 9.0
    for section in layout.sections:
        _pdf_section(pen, section)
    for heading, text in layout.notices:
        lines = _wrap(text, "", 8.5, _RIGHT - _LEFT)
        pen.fits(5.0 + 4.3 * len(lines))
        pen.write(heading, style="B")
        pen.y += 5.0
        pen.paragraph(text, size=8.5, leading=4.3)
        pen.y += 2.5


def render_pdf(view: BillView) -> bytes:
    """The bill as an A4 PDF: page 1 the overview and payment (with the FI code line), page 2
    (and on, with many metering points) the specification and what the rules ask a bill to
    say. Open Sans is embedded, so æøå and the amounts print alike everywhere."""
    layout = _layout(view)
    if layout.fi_code_line is not None and not (
        layout.fi_code_line.isascii() and layout.fi_code_line.isprintable()
    ):
        # Printed exactly as given or not at all: a payer types it into net banking.
        raise ValueError("an FI code line is printable ASCII")
    pen = _Pen(layout)
    _pdf_page_one(pen, layout)
    _pdf_page_two(pen, layout)
    pen.finish_page()
    return bytes(pen.pdf.output(output_producer_class=_Producer))


def first_page_png(pdf: bytes, *, dpi: int = 110) -> bytes:
    """The first page of *pdf* as a PNG (for the README, and to look at a bill in a review),
    drawn by PDFium from the pypdfium2 wheel."""
    # Imported here: the service renders PDFs, only people look at pictures, and loading
    # PDFium would cost every process start-up time.
    import pypdfium2

    document = pypdfium2.PdfDocument(pdf)
    try:
        bitmap = document[0].render(scale=dpi / 72)
        buffer = io.BytesIO()
        bitmap.to_pil().save(buffer, format="PNG", optimize=True)
        return buffer.getvalue()
    finally:
        document.close()
