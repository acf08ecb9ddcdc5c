"""Speech recognition on the Free Spoken Digit Dataset (article 6.3): isolated
digits (a softmax over MFCC frames) and connected digit strings (CTC)."""
