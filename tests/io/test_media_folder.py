"""Media folders: one record per image, audio or video file, sized from the file's header."""

from __future__ import annotations

import csv
import shutil
import struct
import wave
from pathlib import Path
from xml.etree import ElementTree

import pytest
from PIL import Image

from accord.errors import ImportRowError
from accord.io import read_records
from accord.io.media_folder import media_info, mp4_video_info
from tests.conftest import DATASETS

BCCD = DATASETS / "detection" / "bccd" / "BCCD"
FSDD = DATASETS / "audio" / "fsdd"
VIDEO = DATASETS / "video"


def need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"the shared dataset {path.name} is not present")
    return path


def test_every_bccd_image_is_sized_from_its_header_as_in_its_annotation() -> None:
    images = need(BCCD / "JPEGImages")
    records = list(read_records(images))
    files = sorted(images.glob("*.jpg"))
    assert len(records) == len(files) == 364
    assert [r.row for r in records] == list(range(1, 365))
    for record, path in zip(records, files, strict=True):
        assert record.meta == {"filename": path.name}
        assert record.media == path.resolve().as_uri()
        assert record.data == {"image": record.media}
    # the Pascal VOC annotations state each image's size independently of the JPEG header
    for record in records[::20]:
        xml = BCCD / "Annotations" / record.meta["filename"].replace(".jpg", ".xml")
        size = ElementTree.parse(xml).getroot().find("size")
        assert size is not None
        expected = {
            "width": int(size.findtext("width", "")),
            "height": int(size.findtext("height", "")),
        }
        assert record.media_info == expected == {"width": 640, "height": 480}


def test_real_audio_durations_match_the_dataset_metadata(tmp_path: Path) -> None:
    metadata = need(FSDD / "metadata.csv")
    with metadata.open(newline="") as f:
        rows = list(csv.DictReader(f))[::25]
    folder = tmp_path / "clips"
    folder.mkdir()
    for row in rows:
        shutil.copy(FSDD / row["file"], folder / Path(row["file"]).name)
    records = {r.meta["filename"]: r for r in read_records(folder, "folder")}
    assert len(records) == len(rows) == 12
    for row in rows:
        info = records[Path(row["file"]).name].media_info
        assert info is not None
        frames, rate = int(row["frames"]), int(row["sample_rate"])
        assert info["sample_rate"] == rate == 8000
        assert info["duration"] == pytest.approx(frames / rate)
        assert info["duration"] == pytest.approx(float(row["duration_s"]), abs=1e-4)
    record = records[Path(rows[0]["file"]).name]
    assert set(record.data) == {"audio"} and record.data["audio"].startswith("file:///")


@pytest.mark.parametrize(
    ("name", "frames"),
    [("opossum_snow/opossum_snow.mp4", 1259), ("opossum_snow_short/opossum_snow_short.mp4", 35)],
)
def test_real_video_size_frames_and_rate_come_from_the_mp4_header(name: str, frames: int) -> None:
    # the dataset README states: H.264 1280x720, 29.97 fps, 1,259 and 35 frames
    info = media_info(need(VIDEO / name), "video")
    assert info["width"] == 1280 and info["height"] == 720
    assert info["frame_count"] == frames
    assert info["fps"] == pytest.approx(29.97, abs=0.01)
    assert info["duration"] == pytest.approx(frames / 29.97, abs=0.01)


def test_a_folder_mixing_kinds_and_subfolders(tmp_path: Path) -> None:
    (tmp_path / "b" / "deep").mkdir(parents=True)
    Image.new("RGB", (33, 21)).save(tmp_path / "b" / "deep" / "small.png")
    Image.new("L", (8, 9)).save(tmp_path / "a.JPG", "JPEG")
    with wave.open(str(tmp_path / "tone.wav"), "wb") as clip:
        clip.setnchannels(1)
        clip.setsampwidth(2)
        clip.setframerate(16_000)
        clip.writeframes(b"\x00\x00" * 8_000)
    (tmp_path / "notes.txt").write_text("not media")
    (tmp_path / ".hidden.png").write_bytes(b"junk")
    (tmp_path / "._a.JPG").write_bytes(b"\x00\x05\x16\x07 resource fork")
    (tmp_path / ".cache").mkdir()
    (tmp_path / ".cache" / "thumb.png").write_bytes(b"junk")
    records = list(read_records(tmp_path))
    assert [(r.row, r.meta["filename"], list(r.data), r.media_info) for r in records] == [
        (1, "a.JPG", ["image"], {"width": 8, "height": 9}),
        (2, "b/deep/small.png", ["image"], {"width": 33, "height": 21}),
        (3, "tone.wav", ["audio"], {"duration": 0.5, "sample_rate": 16_000}),
    ]


def test_exif_orientation_swaps_the_size_the_browser_shows(tmp_path: Path) -> None:
    for orientation in (1, 3, 6, 8):
        exif = Image.Exif()
        exif[0x0112] = orientation
        Image.new("RGB", (40, 30)).save(tmp_path / f"o{orientation}.jpg", exif=exif)
    sizes = {r.meta["filename"]: r.media_info for r in read_records(tmp_path)}
    assert sizes == {
        "o1.jpg": {"width": 40, "height": 30},
        "o3.jpg": {"width": 40, "height": 30},
        "o6.jpg": {"width": 30, "height": 40},
        "o8.jpg": {"width": 30, "height": 40},
    }


def float_wav(path: Path, rate: int, frames: int) -> None:
    """A 32-bit float WAV (format 3), which the standard library's wave module cannot read."""
    data = struct.pack(f"<{frames}f", *([0.25] * frames))
    fmt = struct.pack("<HHIIHH", 3, 1, rate, rate * 4, 4, 32)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt
    body += b"data" + struct.pack("<I", len(data)) + data
    path.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)


def test_a_float_wav_is_read_through_its_header(tmp_path: Path) -> None:
    float_wav(tmp_path / "f.wav", 22_050, 11_025)
    with pytest.raises(wave.Error), wave.open(str(tmp_path / "f.wav")):
        pass  # the standard library refuses it
    assert media_info(tmp_path / "f.wav", "audio")["duration"] == pytest.approx(0.5)


def test_an_unreadable_image_names_its_row_and_file(tmp_path: Path) -> None:
    Image.new("RGB", (4, 4)).save(tmp_path / "a.png")
    (tmp_path / "b.jpg").write_bytes(b"this is not a jpeg")
    Image.new("RGB", (4, 4)).save(tmp_path / "c.png")
    records = read_records(tmp_path, "folder")
    assert next(records).meta["filename"] == "a.png"
    with pytest.raises(ImportRowError) as caught:
        next(records)
    assert caught.value.row == 2
    assert caught.value.reason.startswith("b.jpg: unreadable image")


def test_a_folder_that_does_not_exist(tmp_path: Path) -> None:
    with pytest.raises(ImportRowError) as caught:
        list(read_records(tmp_path / "missing", "folder"))
    assert caught.value.reason.endswith("is not a folder")


def box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


def tiny_mp4(
    width: int, height: int, frames: int, timescale: int, duration: int, turned: bool
) -> bytes:
    """An MP4 skeleton with one video track: only the boxes the header reader looks at."""
    matrix = (
        (0, 65536, 0, -65536, 0, 0, 0, 0, 1 << 30)
        if turned
        else (65536, 0, 0, 0, 65536, 0, 0, 0, 1 << 30)
    )
    tkhd = struct.pack(">I5I", 0, 0, 0, 1, 0, duration) + bytes(16)
    tkhd += struct.pack(">9i", *matrix) + struct.pack(">II", width << 16, height << 16)
    mdhd = struct.pack(">I4I", 0, 0, 0, timescale, duration) + bytes(4)
    hdlr = struct.pack(">II4s", 0, 0, b"vide") + bytes(12) + b"\x00"
    stsz = struct.pack(">III", 0, 0, frames)
    stbl = box(b"stbl", box(b"stsz", stsz))
    mdia = box(b"mdia", box(b"mdhd", mdhd) + box(b"hdlr", hdlr) + box(b"minf", stbl))
    trak = box(b"trak", box(b"tkhd", tkhd) + mdia)
    sound = box(b"trak", box(b"mdia", box(b"hdlr", struct.pack(">II4s", 0, 0, b"soun"))))
    # the movie box after the media data, as many encoders write it
    return (
        box(b"ftyp", b"isom\x00\x00\x02\x00")
        + box(b"mdat", bytes(1000))
        + box(b"moov", sound + trak)
    )


def test_mp4_header_reader_on_a_built_file(tmp_path: Path) -> None:
    path = tmp_path / "clip.mp4"
    path.write_bytes(tiny_mp4(320, 240, 250, 12_800, 128_000, turned=False))
    assert mp4_video_info(path) == {
        "width": 320,
        "height": 240,
        "duration": 10.0,
        "frame_count": 250,
        "fps": 25.0,
    }
    # a phone video recorded upright: the matrix turns it a quarter, the browser shows it tall
    path.write_bytes(tiny_mp4(1920, 1080, 60, 600, 1200, turned=True))
    assert mp4_video_info(path) == {
        "width": 1080,
        "height": 1920,
        "duration": 2.0,
        "frame_count": 60,
        "fps": 30.0,
    }
    # no movie box (a truncated upload): nothing is known
    path.write_bytes(box(b"ftyp", b"isom\x00\x00\x02\x00") + box(b"mdat", bytes(100)))
    assert mp4_video_info(path) == {}
