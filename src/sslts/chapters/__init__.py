"""What only one chapter shows, one module per chapter.

MAE's mask-ratio sweep (:mod:`sslts.chapters.mae`), SS-GAN's samples and stability
(:mod:`sslts.chapters.ssgan`), TTT under shifts (:mod:`sslts.chapters.ttt`) and the network
dissection (:mod:`sslts.chapters.dissection`). What every chapter shares lives elsewhere: the
wiring of parameters into experiments in :mod:`sslts.wiring`, the tables, figures and verdict
sentences in :mod:`sslts.report`.
"""
