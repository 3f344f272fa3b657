"""CocoCaptions / CocoDetection (torchvision 0.1.9) reading the COCO annotation JSON directly.

0.1.9 needed pycocotools; ember indexes the file itself. ``dataset.coco`` offers the part of
pycocotools' ``COCO`` API that the datasets and their users rely on (``dataset``, ``imgs``, ``anns``,
``cats``, ``imgToAnns``, ``getAnnIds``, ``getImgIds``, ``getCatIds``, ``loadAnns``, ``loadImgs``,
``loadCats``).
"""
import json
import os
from collections import defaultdict

from PIL import Image

from ember.utils import data


class COCO(object):
    """An index of a COCO annotation file (images and annotations in file order)."""

    def __init__(self, annotation_file):
        try:
            with open(annotation_file, "r", encoding="utf-8") as f:
                dataset = json.load(f)
        except FileNotFoundError:
            raise FileNotFoundError("COCO: annotation file not found: {}".format(annotation_file)) from None
        except (ValueError, UnicodeDecodeError) as e:
            raise RuntimeError("{}: corrupt COCO annotation file ({})".format(annotation_file, e)) from e
        if not isinstance(dataset, dict) or not isinstance(dataset.get("images"), list):
            raise RuntimeError("{}: not a COCO annotation file (no 'images' list)".format(annotation_file))
        self.dataset = dataset
        self.imgs, self.anns, self.cats = {}, {}, {}
        self.imgToAnns, self.catToImgs = defaultdict(list), defaultdict(list)
        try:
            for img in dataset["images"]:
                self.imgs[img["id"]] = img
            for ann in dataset.get("annotations", []):
                self.anns[ann["id"]] = ann
                self.imgToAnns[ann["image_id"]].append(ann)
                if "category_id" in ann:
                    self.catToImgs[ann["category_id"]].append(ann["image_id"])
            for cat in dataset.get("categories", []):
                self.cats[cat["id"]] = cat
        except (KeyError, TypeError) as e:
            raise RuntimeError("{}: corrupt COCO annotation file (an entry lacks {})".format(annotation_file, e)) from e

    def getAnnIds(self, imgIds=(), catIds=(), iscrowd=None):
        imgIds, catIds = _as_list(imgIds), _as_list(catIds)
        anns = ([a for i in imgIds for a in self.imgToAnns.get(i, [])] if imgIds
                else list(self.dataset.get("annotations", [])))
        if catIds:
            anns = [a for a in anns if a.get("category_id") in catIds]
        if iscrowd is not None:
            anns = [a for a in anns if a.get("iscrowd") == iscrowd]
        return [a["id"] for a in anns]

    def getImgIds(self, imgIds=(), catIds=()):
        ids = set(_as_list(imgIds)) if _as_list(imgIds) else set(self.imgs)
        for c in _as_list(catIds):
            ids &= set(self.catToImgs.get(c, []))
        return [i for i in self.imgs if i in ids]

    def getCatIds(self):
        return list(self.cats)

    def loadAnns(self, ids=()):
        return [self.anns[i] for i in _as_list(ids)]

    def loadImgs(self, ids=()):
        return [self.imgs[i] for i in _as_list(ids)]

    def loadCats(self, ids=()):
        return [self.cats[i] for i in _as_list(ids)]


def _as_list(ids):
    return list(ids) if isinstance(ids, (list, tuple, set)) else [ids]


class _CocoBase(data.Dataset):
    def __init__(self, root, annFile, transform=None, target_transform=None):
        self.root = os.path.expanduser(root)
        self.coco = COCO(annFile)
        self.ids = list(self.coco.imgs.keys())
        self.transform = transform
        self.target_transform = target_transform

    def __getitem__(self, index):
        coco = self.coco
        img_id = self.ids[index]
        target = self._target(coco.loadAnns(coco.getAnnIds(imgIds=img_id)))
        path = coco.loadImgs(img_id)[0]["file_name"]
        with open(os.path.join(self.root, path), "rb") as f:
            with Image.open(f) as img:
                img = img.convert("RGB")
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def __len__(self):
        return len(self.ids)


class CocoCaptions(_CocoBase):
    """MS Coco Captions: items are ``(PIL Image RGB, list of caption strings)``.

    Args: root (where the images are), annFile (the captions JSON), transform, target_transform."""

    @staticmethod
    def _target(anns):
        return [ann["caption"] for ann in anns]


class CocoDetection(_CocoBase):
    """MS Coco Detection: items are ``(PIL Image RGB, list of annotation dicts)``.

    Args: root (where the images are), annFile (the instances JSON), transform, target_transform."""

    @staticmethod
    def _target(anns):
        return anns
