#!/usr/bin/python3
# Labels as a user would have painted them on a labelme photo: the VOC mask
# kept on a few bands of rows and columns, the rest unlabelled (255); classes
# renumbered to those present. Writes NAME.labels.png and NAME.classes.json
# beside NAME.jpg in WORK (RevUp's label files for that image).
#   painted_labels.py VOC_DIR WORK [IMAGE_ID] [NAME]
import json, sys
import numpy as np
from osgeo import gdal
voc, work = sys.argv[1], sys.argv[2]
image_id = sys.argv[3] if len(sys.argv) > 3 else "2011_000025"
name = sys.argv[4] if len(sys.argv) > 4 else "bus"
mask = np.load(f"{voc}/SegmentationClass/{image_id}.npy").astype(np.int64)
names = [l.strip() for l in open(f"{voc}/class_names.txt") if l.strip()]
present = sorted(int(v) for v in np.unique(mask) if 0 <= v < len(names))
remap = np.full(256, 255, np.uint8)
for new, old in enumerate(present):
    remap[old] = new
ids = remap[np.clip(mask, 0, 255)]
painted = np.full_like(ids, 255)
h, w = ids.shape
for r in range(h // 8, h, h // 4):
    painted[r:r + 12] = ids[r:r + 12]
for c in range(w // 8, w, w // 4):
    painted[:, c:c + 12] = ids[:, c:c + 12]
mem = gdal.GetDriverByName("MEM").Create("", w, h, 1, gdal.GDT_Byte)
mem.GetRasterBand(1).WriteArray(painted)
gdal.GetDriverByName("PNG").CreateCopy(f"{work}/{name}.labels.png", mem)
json.dump({"classes": [names[i].replace("_background_", "background") for i in present],
           "ignore_index": 255}, open(f"{work}/{name}.classes.json", "w"))
