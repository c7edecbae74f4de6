//! An item's neighbourhood, drawn: the item in the middle, callers to the left, callees to
//! the right, its module and parent above, traits and implementations below; rounded boxes
//! with the items' names, curved edges with arrows in the direction of the relation, one
//! colour per relation and a legend. Each node is a clickable widget named by its item's
//! name (for accessibility and tests); clicking one opens that item.

use egui::epaint::{CubicBezierShape, PathShape};
use egui::{
    Align2, FontId, Pos2, Rect, RichText, Sense, Shape, Stroke, Ui, Vec2, WidgetInfo, WidgetType,
};
use ploke_app::{Neighbourhood, Relation};

use crate::theme::Palette;
use crate::widgets;

/// Height of a node box.
const NODE_H: f32 = 28.0;
/// Space between rows of nodes.
const ROW_GAP: f32 = 14.0;
const MARGIN: f32 = 10.0;

/// The height the graph wants.
pub(crate) fn height(g: &Neighbourhood) -> f32 {
    g.rows() * (NODE_H + ROW_GAP) - ROW_GAP + 2.0 * MARGIN + 24.0
}

/// Draws `g` in a canvas `height` tall; the id of the node clicked, if any.
pub(crate) fn show(ui: &mut Ui, g: &Neighbourhood, height: f32) -> Option<String> {
    let p = Palette::of(ui);
    let legend_h = 22.0;
    let (rect, _) = ui.allocate_exact_size(Vec2::new(ui.available_width(), height), Sense::hover());
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, 8.0, ui.visuals().extreme_bg_color);
    if g.nodes.is_empty() {
        return None;
    }
    let canvas = Rect::from_min_max(
        rect.min + Vec2::splat(MARGIN),
        Pos2::new(rect.right() - MARGIN, rect.bottom() - MARGIN - legend_h),
    );
    let rows = g.rows().max(1.0);
    let row_h = (canvas.height() / rows).min(NODE_H + ROW_GAP + 20.0);
    let node_h = NODE_H.min(row_h - 4.0).max(14.0);
    // Centred vertically when the canvas is taller than the rows.
    let top = canvas.top() + (canvas.height() - row_h * rows) / 2.0;
    let base_w = ((canvas.width() - 2.0 * 40.0) / 3.0).clamp(80.0, 240.0);
    // An item at a crate's root has the crate as both its module and its parent: one node.
    let twin = g.nodes.iter().position(|n| {
        n.relation == Relation::Parent
            && g.nodes
                .iter()
                .any(|m| m.relation == Relation::Module && m.item.id == n.item.id)
    });
    let drawn = |i: usize| twin != Some(i);
    // Nodes of a row share its width.
    let mut per_row: std::collections::HashMap<i32, usize> = Default::default();
    for (i, n) in g.nodes.iter().enumerate() {
        if drawn(i) {
            *per_row.entry((n.y * 2.0).round() as i32).or_default() += 1;
        }
    }
    let rects: Vec<Rect> = g
        .nodes
        .iter()
        .map(|n| {
            let count = per_row
                .get(&((n.y * 2.0).round() as i32))
                .copied()
                .unwrap_or(1);
            let w = if count > 3 {
                base_w.min(canvas.width() / count as f32 - 12.0)
            } else {
                base_w
            };
            let half = canvas.width() / 2.0 - w / 2.0;
            // The module alone above the item (its twin not drawn) sits over it.
            let x = if twin.is_some() && n.relation == Relation::Module {
                0.0
            } else {
                n.x
            };
            let cx = canvas.center().x + x * half;
            let cy = top + row_h * (n.y + 0.5);
            Rect::from_center_size(Pos2::new(cx, cy), Vec2::new(w, node_h))
        })
        .collect();

    // Edges under the nodes.
    for &(a, b) in g.edges.iter().filter(|(a, b)| drawn(*a) && drawn(*b)) {
        let (ra, rb) = (rects[a], rects[b]);
        let other = if g.nodes[a].relation == Relation::Center {
            b
        } else {
            a
        };
        let color = p.relation(g.nodes[other].relation).gamma_multiply(0.85);
        edge(&painter, ra, rb, color);
    }

    let mut clicked = None;
    for (i, (n, r)) in g.nodes.iter().zip(&rects).enumerate() {
        if !drawn(i) {
            continue;
        }
        let resp = ui.interact(*r, ui.id().with(("graph-node", i)), Sense::click());
        resp.widget_info(|| WidgetInfo::labeled(WidgetType::Button, true, &n.item.name));
        let color = p.relation(n.relation);
        let center = n.relation == Relation::Center;
        let fill = if center {
            color.gamma_multiply(0.28)
        } else if resp.hovered() {
            p.hover
        } else {
            p.surface
        };
        painter.rect(
            *r,
            7.0,
            fill,
            Stroke::new(if center { 2.0 } else { 1.2 }, color),
            egui::StrokeKind::Inside,
        );
        // A dot in the relation's colour, then the name.
        painter.circle_filled(Pos2::new(r.left() + 10.0, r.center().y), 3.5, color);
        let font = FontId::proportional(if center { 14.0 } else { 13.0 });
        let text_color = if center { p.strong } else { p.text };
        let galley = widgets::one_line(ui, &n.item.name, font, text_color, r.width() - 26.0);
        let pos = Pos2::new(r.left() + 19.0, r.center().y - galley.size().y / 2.0);
        painter.galley(pos, galley, text_color);
        let resp = resp.on_hover_ui(|ui| {
            ui.label(RichText::new(&n.item.path).monospace());
            let at = match n.line {
                Some(l) => format!(" (line {l})"),
                None => String::new(),
            };
            ui.label(format!(
                "{} · {}{} · {}:{}",
                n.item.kind,
                n.relation.label(),
                at,
                n.item.file,
                n.item.start_line
            ));
        });
        if !center && resp.clicked() {
            clicked = Some(n.item.id.clone());
        }
    }

    // The legend: the relations drawn, and how many were left out.
    let mut seen: Vec<Relation> = Vec::new();
    for (i, n) in g.nodes.iter().enumerate() {
        if drawn(i) && n.relation != Relation::Center && !seen.contains(&n.relation) {
            seen.push(n.relation);
        }
    }
    let mut x = rect.left() + MARGIN + 4.0;
    let y = rect.bottom() - MARGIN - legend_h / 2.0 + 4.0;
    let font = FontId::proportional(11.5);
    for rel in seen {
        let color = p.relation(rel);
        painter.circle_filled(Pos2::new(x + 4.0, y), 4.0, color);
        let r = painter.text(
            Pos2::new(x + 12.0, y),
            Align2::LEFT_CENTER,
            rel.label(),
            font.clone(),
            p.weak,
        );
        x = r.right() + 14.0;
    }
    if g.hidden > 0 {
        painter.text(
            Pos2::new(x, y),
            Align2::LEFT_CENTER,
            format!("+{} more not drawn", g.hidden),
            font,
            p.weak,
        );
    }
    clicked
}

/// A curved edge from box `a` to box `b` with an arrow head at `b`.
fn edge(painter: &egui::Painter, a: Rect, b: Rect, color: egui::Color32) {
    let overlap = a.right() > b.left() && b.right() > a.left();
    let (start, end, c1, c2) = if overlap {
        // One above the other: leave from the bottom, arrive at the top (or back up).
        let down = b.center().y > a.center().y;
        let (s, e) = if down {
            (a.center_bottom(), b.center_top())
        } else {
            (a.center_top(), b.center_bottom())
        };
        let dy = (e.y - s.y) / 2.0;
        (s, e, s + Vec2::new(0.0, dy), e - Vec2::new(0.0, dy))
    } else {
        let right = b.center().x > a.center().x;
        let (s, e) = if right {
            (a.right_center(), b.left_center())
        } else {
            (a.left_center(), b.right_center())
        };
        let dx = (e.x - s.x) / 2.0;
        (s, e, s + Vec2::new(dx, 0.0), e - Vec2::new(dx, 0.0))
    };
    let stroke = Stroke::new(1.5, color);
    painter.add(CubicBezierShape::from_points_stroke(
        [start, c1, c2, end],
        false,
        egui::Color32::TRANSPARENT,
        stroke,
    ));
    // The head points along the curve's last tangent.
    let dir = (end - c2).normalized();
    let dir = if dir.is_finite() && dir != Vec2::ZERO {
        dir
    } else {
        (end - start).normalized()
    };
    let side = Vec2::new(-dir.y, dir.x);
    let len = 8.0;
    let back = end - dir * len;
    painter.add(Shape::Path(PathShape::convex_polygon(
        vec![end, back + side * 4.0, back - side * 4.0],
        color,
        Stroke::NONE,
    )));
}
