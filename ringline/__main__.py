from ringline.cli.main import app

app(prog_name="ringline")
