package linesim

import (
	"bytes"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"sync"
)

// Size of the sample identity card, in pixels: the ID-1 card format (85.6 × 54 mm) at 5 px/mm.
const (
	sampleCardW = 428
	sampleCardH = 270
)

// SampleIDCard returns a PNG of a made-up identity card stamped SAMPLE: a card outline with a header
// band, a photo box with a silhouette and grey bars where the text would be. It carries no real
// document's design or data. The chat page's "sample ID" button sends it; tests can send it too. The
// image is drawn once, in code; the caller gets its own copy.
func SampleIDCard() []byte {
	return append([]byte(nil), sampleIDCard()...)
}

var sampleIDCard = sync.OnceValue(func() []byte {
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(&buf, drawSampleCard()); err != nil {
		panic("linesim: encoding the sample card: " + err.Error()) // cannot happen with an in-memory image
	}
	return buf.Bytes()
})

func drawSampleCard() *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, sampleCardW, sampleCardH))
	border := color.NRGBA{0x4a, 0x7a, 0x5a, 0xff}
	paper := color.NRGBA{0xee, 0xf6, 0xee, 0xff}
	band := color.NRGBA{0x2f, 0x6f, 0x4f, 0xff}
	bar := color.NRGBA{0xa9, 0xb4, 0xad, 0xff}
	photo := color.NRGBA{0xd5, 0xdb, 0xe1, 0xff}
	figure := color.NRGBA{0x8b, 0x96, 0xa3, 0xff}

	// The card: a rounded rectangle with a 3 px border; outside it stays transparent.
	for y := range sampleCardH {
		for x := range sampleCardW {
			switch {
			case inRoundRect(x, y, 3, 15):
				img.SetNRGBA(x, y, paper)
			case inRoundRect(x, y, 0, 18):
				img.SetNRGBA(x, y, border)
			}
		}
	}
	fill := func(r image.Rectangle, c color.Color) {
		draw.Draw(img, r, image.NewUniform(c), image.Point{}, draw.Over)
	}
	// The header band follows the top corners' curve.
	for y := 3; y < 46; y++ {
		for x := range sampleCardW {
			if inRoundRect(x, y, 3, 15) {
				img.SetNRGBA(x, y, band)
			}
		}
	}

	// Text lines: label and value bars.
	for i, w := range []int{230, 180, 250, 150, 210, 120} {
		y := 62 + i*26
		fill(image.Rect(22, y, 60, y+9), bar)
		fill(image.Rect(70, y, 70+w-48, y+9), bar)
	}
	// Photo box with a head and shoulders.
	box := image.Rect(302, 64, 402, 194)
	fill(box, photo)
	for y := box.Min.Y; y < box.Max.Y; y++ {
		for x := box.Min.X; x < box.Max.X; x++ {
			dx, dy := x-352, y-112
			head := dx*dx+dy*dy <= 24*24
			sx, sy := float64(x-352)/44, float64(y-196)/46
			shoulders := sx*sx+sy*sy <= 1
			if head || shoulders {
				img.SetNRGBA(x, y, figure)
			}
		}
	}
	// Number strip at the bottom.
	fill(image.Rect(22, 226, 300, 240), bar)

	// The stamp.
	stampText(img, "SAMPLE", 7, (sampleCardW-(6*5*7+5*7))/2, 112, color.NRGBA{0xd9, 0x30, 0x25, 0xe0})
	return img
}

// inRoundRect reports whether pixel (x, y) lies inside the card inset by inset pixels with corners of
// radius r.
func inRoundRect(x, y, inset, r int) bool {
	minX, minY, maxX, maxY := inset, inset, sampleCardW-1-inset, sampleCardH-1-inset
	if x < minX || y < minY || x > maxX || y > maxY {
		return false
	}
	cx, cy := x, y
	switch {
	case x < minX+r:
		cx = minX + r
	case x > maxX-r:
		cx = maxX - r
	}
	switch {
	case y < minY+r:
		cy = minY + r
	case y > maxY-r:
		cy = maxY - r
	}
	dx, dy := x-cx, y-cy
	return dx*dx+dy*dy <= r*r
}

// glyphs are 5×7 bitmaps of the letters the stamp uses.
var glyphs = map[rune][7]string{
	'S': {".####", "#....", "#....", ".###.", "....#", "....#", "####."},
	'A': {".###.", "#...#", "#...#", "#####", "#...#", "#...#", "#...#"},
	'M': {"#...#", "##.##", "#.#.#", "#.#.#", "#...#", "#...#", "#...#"},
	'P': {"####.", "#...#", "#...#", "####.", "#....", "#....", "#...."},
	'L': {"#....", "#....", "#....", "#....", "#....", "#....", "#####"},
	'E': {"#####", "#....", "#....", "####.", "#....", "#....", "#####"},
}

// stampText draws s in the 5×7 glyphs from (x, y), each dot scale pixels square and one dot's width
// between letters, blended over the image.
func stampText(img *image.NRGBA, s string, scale, x, y int, c color.NRGBA) {
	u := image.NewUniform(c)
	for _, ch := range s {
		g := glyphs[ch]
		for row, line := range g {
			for col, dot := range line {
				if dot == '#' {
					r := image.Rect(x+col*scale, y+row*scale, x+(col+1)*scale, y+(row+1)*scale)
					draw.Draw(img, r, u, image.Point{}, draw.Over)
				}
			}
		}
		x += 6 * scale
	}
}
