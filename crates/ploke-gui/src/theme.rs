//! The look: a dark theme by default (a light one in the settings), and the colours every
//! view shares, so syntax, relations, signals, roles and diffs read the same everywhere.

use egui::{Color32, CornerRadius, FontFamily, FontId, Margin, Stroke, TextStyle, Theme, Visuals};
use ploke_app::highlight::Class;
use ploke_app::Relation;

/// Colours of one theme.
#[derive(Debug, Clone, Copy)]
pub struct Palette {
    pub text: Color32,
    pub weak: Color32,
    pub strong: Color32,
    pub accent: Color32,
    pub good: Color32,
    pub warn: Color32,
    pub bad: Color32,
    /// Cards, code blocks, graph nodes.
    pub surface: Color32,
    /// The row under the pointer, the selected row.
    pub hover: Color32,
    pub selected: Color32,
    pub border: Color32,
    pub added_bg: Color32,
    pub removed_bg: Color32,
    syntax: [Color32; 12],
    relations: [Color32; 7],
}

const DARK: Palette = Palette {
    text: Color32::from_rgb(0xab, 0xb2, 0xbf),
    weak: Color32::from_rgb(0x7f, 0x84, 0x8e),
    strong: Color32::from_rgb(0xe6, 0xe9, 0xef),
    accent: Color32::from_rgb(0x61, 0xaf, 0xef),
    good: Color32::from_rgb(0x98, 0xc3, 0x79),
    warn: Color32::from_rgb(0xe5, 0xc0, 0x7b),
    bad: Color32::from_rgb(0xe0, 0x6c, 0x75),
    surface: Color32::from_rgb(0x2c, 0x31, 0x3a),
    hover: Color32::from_rgb(0x2f, 0x34, 0x3f),
    selected: Color32::from_rgb(0x2b, 0x3d, 0x55),
    border: Color32::from_rgb(0x3e, 0x44, 0x51),
    added_bg: Color32::from_rgb(0x23, 0x3a, 0x2a),
    removed_bg: Color32::from_rgb(0x45, 0x27, 0x2c),
    syntax: [
        Color32::from_rgb(0xab, 0xb2, 0xbf), // plain
        Color32::from_rgb(0xc6, 0x78, 0xdd), // keyword
        Color32::from_rgb(0xe5, 0xc0, 0x7b), // type
        Color32::from_rgb(0x61, 0xaf, 0xef), // function
        Color32::from_rgb(0x56, 0xb6, 0xc2), // macro
        Color32::from_rgb(0x98, 0xc3, 0x79), // string
        Color32::from_rgb(0xd1, 0x9a, 0x66), // number
        Color32::from_rgb(0x6b, 0x72, 0x7f), // comment
        Color32::from_rgb(0x8a, 0x9a, 0x7a), // doc comment
        Color32::from_rgb(0xe0, 0x6c, 0x75), // lifetime
        Color32::from_rgb(0xd1, 0x9a, 0x66), // attribute
        Color32::from_rgb(0x9d, 0xa5, 0xb4), // punctuation
    ],
    relations: [
        Color32::from_rgb(0x61, 0xaf, 0xef), // center
        Color32::from_rgb(0x8a, 0x90, 0x9c), // module
        Color32::from_rgb(0xc6, 0x78, 0xdd), // parent
        Color32::from_rgb(0x98, 0xc3, 0x79), // caller
        Color32::from_rgb(0xd1, 0x9a, 0x66), // callee
        Color32::from_rgb(0x56, 0xb6, 0xc2), // implementation
        Color32::from_rgb(0xe0, 0x6c, 0x75), // implements
    ],
};

const LIGHT: Palette = Palette {
    text: Color32::from_rgb(0x38, 0x3a, 0x42),
    weak: Color32::from_rgb(0x80, 0x84, 0x8c),
    strong: Color32::from_rgb(0x10, 0x12, 0x16),
    accent: Color32::from_rgb(0x40, 0x78, 0xf2),
    good: Color32::from_rgb(0x3f, 0x8f, 0x3f),
    warn: Color32::from_rgb(0xb0, 0x6a, 0x00),
    bad: Color32::from_rgb(0xca, 0x12, 0x43),
    surface: Color32::from_rgb(0xee, 0xef, 0xf2),
    hover: Color32::from_rgb(0xe6, 0xe8, 0xee),
    selected: Color32::from_rgb(0xd5, 0xe3, 0xfb),
    border: Color32::from_rgb(0xc8, 0xcc, 0xd4),
    added_bg: Color32::from_rgb(0xdc, 0xf5, 0xdc),
    removed_bg: Color32::from_rgb(0xfb, 0xdf, 0xe2),
    syntax: [
        Color32::from_rgb(0x38, 0x3a, 0x42),
        Color32::from_rgb(0xa6, 0x26, 0xa4),
        Color32::from_rgb(0xa0, 0x6a, 0x00),
        Color32::from_rgb(0x40, 0x78, 0xf2),
        Color32::from_rgb(0x01, 0x84, 0xbc),
        Color32::from_rgb(0x50, 0xa1, 0x4f),
        Color32::from_rgb(0x98, 0x68, 0x01),
        Color32::from_rgb(0xa0, 0xa1, 0xa7),
        Color32::from_rgb(0x6a, 0x8a, 0x5a),
        Color32::from_rgb(0xe4, 0x56, 0x49),
        Color32::from_rgb(0x98, 0x68, 0x01),
        Color32::from_rgb(0x50, 0x52, 0x5a),
    ],
    relations: [
        Color32::from_rgb(0x40, 0x78, 0xf2),
        Color32::from_rgb(0x80, 0x84, 0x8c),
        Color32::from_rgb(0xa6, 0x26, 0xa4),
        Color32::from_rgb(0x3f, 0x8f, 0x3f),
        Color32::from_rgb(0xc1, 0x6a, 0x10),
        Color32::from_rgb(0x01, 0x84, 0xbc),
        Color32::from_rgb(0xca, 0x12, 0x43),
    ],
};

impl Palette {
    /// The palette of the theme `ui` draws with.
    pub fn of(ui: &egui::Ui) -> &'static Palette {
        Palette::for_dark(ui.visuals().dark_mode)
    }

    /// The dark or the light palette.
    pub fn for_dark(dark: bool) -> &'static Palette {
        if dark {
            &DARK
        } else {
            &LIGHT
        }
    }

    /// The colour of a syntax class.
    pub fn syntax(&self, class: Class) -> Color32 {
        let i = match class {
            Class::Plain => 0,
            Class::Keyword => 1,
            Class::Type => 2,
            Class::Function => 3,
            Class::Macro => 4,
            Class::Str => 5,
            Class::Number => 6,
            Class::Comment => 7,
            Class::DocComment => 8,
            Class::Lifetime => 9,
            Class::Attribute => 10,
            Class::Punct => 11,
        };
        self.syntax[i]
    }

    /// The colour of a relation in the neighbourhood graph.
    pub fn relation(&self, relation: Relation) -> Color32 {
        let i = match relation {
            Relation::Center => 0,
            Relation::Module => 1,
            Relation::Parent => 2,
            Relation::Caller => 3,
            Relation::Callee => 4,
            Relation::Implementation => 5,
            Relation::Implements => 6,
        };
        self.relations[i]
    }

    /// The colours of the three ranking signals: lexical, dense (vector), graph.
    pub fn signals(&self) -> [Color32; 3] {
        [self.accent, self.syntax[1], self.good]
    }

    /// The colour of a context pack role (`primary`, `outline`, `neighbour`).
    pub fn role(&self, role: &str) -> Color32 {
        match role {
            "primary" => self.good,
            "outline" => self.accent,
            _ => self.syntax[1],
        }
    }

    /// The colour of an item kind's badge.
    pub fn kind(&self, kind: &str) -> Color32 {
        match kind {
            "fn" | "method" => self.syntax[3],
            "struct" | "enum" | "union" | "type" => self.syntax[2],
            "trait" => self.syntax[1],
            "impl" => self.syntax[4],
            "mod" | "module" | "crate" => self.weak,
            "macro" => self.syntax[4],
            "const" | "static" => self.syntax[6],
            _ => self.text,
        }
    }
}

/// The code font.
pub fn mono(size: f32) -> FontId {
    FontId::new(size, FontFamily::Monospace)
}

/// Size of code text.
pub const CODE_SIZE: f32 = 13.0;

/// Sets the styles of both themes on `ctx` (the dark one in force unless `light`).
pub fn install(ctx: &egui::Context, light: bool) {
    for theme in [Theme::Dark, Theme::Light] {
        let p = if theme == Theme::Dark { &DARK } else { &LIGHT };
        ctx.style_mut_of(theme, |style| {
            style
                .text_styles
                .insert(TextStyle::Body, FontId::proportional(14.0));
            style
                .text_styles
                .insert(TextStyle::Button, FontId::proportional(14.0));
            style
                .text_styles
                .insert(TextStyle::Small, FontId::proportional(11.5));
            style
                .text_styles
                .insert(TextStyle::Heading, FontId::proportional(20.0));
            style
                .text_styles
                .insert(TextStyle::Monospace, mono(CODE_SIZE));
            let s = &mut style.spacing;
            s.item_spacing = egui::vec2(8.0, 6.0);
            s.button_padding = egui::vec2(10.0, 4.0);
            s.interact_size.y = 24.0;
            s.window_margin = Margin::same(10);
            s.menu_margin = Margin::same(6);
            s.combo_width = 140.0;
            style.visuals = visuals(theme, p);
        });
    }
    ctx.set_theme(if light { Theme::Light } else { Theme::Dark });
}

fn visuals(theme: Theme, p: &Palette) -> Visuals {
    let mut v = match theme {
        Theme::Dark => Visuals::dark(),
        Theme::Light => Visuals::light(),
    };
    let (panel, extreme, faint) = match theme {
        Theme::Dark => (
            Color32::from_rgb(0x21, 0x25, 0x2b),
            Color32::from_rgb(0x1a, 0x1d, 0x22),
            Color32::from_rgb(0x26, 0x2a, 0x31),
        ),
        Theme::Light => (
            Color32::from_rgb(0xf7, 0xf8, 0xfa),
            Color32::WHITE,
            Color32::from_rgb(0xf0, 0xf1, 0xf4),
        ),
    };
    v.panel_fill = panel;
    v.window_fill = panel;
    v.extreme_bg_color = extreme;
    v.faint_bg_color = faint;
    v.code_bg_color = p.surface;
    v.text_edit_bg_color = Some(p.surface);
    v.hyperlink_color = p.accent;
    v.warn_fg_color = p.warn;
    v.error_fg_color = p.bad;
    v.selection.bg_fill = p.selected;
    v.selection.stroke = Stroke::new(1.0, p.accent);
    v.window_stroke = Stroke::new(1.0, p.border);
    v.window_corner_radius = CornerRadius::same(8);
    v.menu_corner_radius = CornerRadius::same(6);
    v.widgets.noninteractive.bg_stroke = Stroke::new(1.0, p.border);
    v.widgets.noninteractive.fg_stroke = Stroke::new(1.0, p.text);
    v.widgets.noninteractive.bg_fill = panel;
    v.widgets.noninteractive.weak_bg_fill = panel;
    v.widgets.inactive.weak_bg_fill = p.surface;
    v.widgets.inactive.bg_fill = p.surface;
    v.widgets.inactive.fg_stroke = Stroke::new(1.0, p.text);
    v.widgets.inactive.bg_stroke = Stroke::new(1.0, p.border);
    v.widgets.hovered.weak_bg_fill = p.hover;
    v.widgets.hovered.bg_stroke = Stroke::new(1.0, p.accent.gamma_multiply(0.6));
    v.widgets.hovered.fg_stroke = Stroke::new(1.0, p.strong);
    v.widgets.active.fg_stroke = Stroke::new(1.0, p.strong);
    v.widgets.open.weak_bg_fill = p.hover;
    for w in [
        &mut v.widgets.noninteractive,
        &mut v.widgets.inactive,
        &mut v.widgets.hovered,
        &mut v.widgets.active,
        &mut v.widgets.open,
    ] {
        w.corner_radius = CornerRadius::same(5);
    }
    v.striped = false;
    v
}
