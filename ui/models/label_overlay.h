#pragma once
// Class ids drawn as translucent colours over the image, at screen
// resolution: each target pixel looks up the plane pixel under it, so the cost
// is the size of the area redrawn, never the size of the label map (a brush
// stroke repaints its dirty rectangle only).
#include <QImage>
#include <QRect>
#include <QRgb>

#include <array>

#include "io/class_table.h"
#include "ui/models/label_editor.h"

namespace revup::ui {

using ColorLut = std::array<QRgb, 256>;  // premultiplied ARGB per id

// Whether the background class is tinted. Painted labels show it (a stroke
// of background is a label the user made and must see); a prediction leaves
// it clear, or its black tint darkens most of the image and hides it.
enum class BackgroundTint { Shown, Clear };

// The background class: the one named "background" (labelme's
// "_background_" too), any case; -1 when there is none (a numbered or
// land-cover table's class 0 is a class like any other).
int64_t backgroundClass(const ClassTable& classes);

// The classes' colours at `opacity` (0..1); the unlabelled value and ids
// past the table are transparent, and so is the background class if asked.
ColorLut overlayColors(const ClassTable& classes, double opacity,
                       BackgroundTint background = BackgroundTint::Shown);

// Fills `out` (ARGB32 premultiplied, the size of `target`) with the labels
// under the target pixels `target`, where plane pixel p is drawn at target
// position offset + (p.x * scaleX, p.y * scaleY).
void renderOverlay(QImage& out, const QRect& target, const LabelPlane& plane, QPointF offset,
                   double scaleX, double scaleY, const ColorLut& colors);

}  // namespace revup::ui
