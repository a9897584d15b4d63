"""Forecast the airline series one year ahead, save the model, plot forecast and training curves.

Run: python examples/forecast_airline.py   (about 15 s on 2 cores; writes under out/)
"""

import lstmkit
from lstmkit import LSTMForecaster
from lstmkit.datasets import load
from lstmkit.viz import plot_forecast, plot_training_curves

y = load("airline")
train, test = y.iloc[:-12], y.iloc[-12:]
f = LSTMForecaster(horizon=12, lookback=24, transform="log", n_models=3).fit(train)
pred = f.predict()
mape = float(((pred["mean"] - test).abs() / test).mean() * 100)
print(pred.round(1))
print(f"MAPE on the held-out year: {mape:.2f}% (seasonal naive: 9.99%)")

f.save("out/airline_model")
assert lstmkit.load("out/airline_model").predict().equals(pred)  # exactly the same forecast
plot_forecast(train, pred, actual=test, last=48, title="Airline passengers: LSTM forecast", path="out/airline_12.png")
plot_training_curves(f.history_, title="Airline: training curves (3 seeds)", path="out/airline_curves.png")
print("plots: out/airline_12.png, out/airline_curves.png")
