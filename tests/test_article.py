"""The article's section-5 code, run as written on rnnlab's IMDb (fewer epochs)."""

import numpy as np


def test_article_section5_code_runs_on_real_imdb(real_imdb):
    import keras

    from rnnlab.datasets import imdb

    (x_all, y_all), (x_test, y_test) = imdb.load_data(num_words=10000)
    # The article leaves data preparation to the reader (section 3.3, step 1):
    # pad to 100 words and hold validation reviews out of the training set.
    x_all = keras.utils.pad_sequences(x_all, maxlen=100)
    x_test = keras.utils.pad_sequences(x_test, maxlen=100)
    x_train, y_train = x_all[:2000], y_all[:2000]
    x_val, y_val = x_all[-500:], y_all[-500:]
    x_test, y_test = x_test[:1000], y_test[:1000]

    # --- the article's code, unchanged but for epochs=10 -> 1 ---
    from keras.layers import Dense, Embedding, SimpleRNN
    from keras.models import Sequential

    # 定义模型参数
    max_features = 10000
    maxlen = 100
    embedding_dim = 32
    rnn_units = 64

    # 构建模型
    model = Sequential()
    model.add(Embedding(max_features, embedding_dim, input_length=maxlen))
    model.add(SimpleRNN(rnn_units))
    model.add(Dense(1, activation="sigmoid"))

    # 编译模型
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])

    # 训练模型
    model.fit(x_train, y_train, batch_size=32, epochs=1, validation_data=(x_val, y_val))

    # 评估模型
    loss, accuracy = model.evaluate(x_test, y_test)
    # ---

    assert model.count_params() == 10000 * 32 + (32 * 64 + 64 * 64 + 64) + 65
    assert np.isfinite(loss) and 0.0 <= accuracy <= 1.0
    assert loss < 0.8  # one epoch on 2,000 reviews learns something; chance loss is ~0.69-0.75
