# A stand-in for Homebrew's cask and formula DSLs that records every call a rendered file makes
# while it is loaded: the DSL calls (with their arguments, as strings) and every method the
# file's own lines call (TracePoint), so a value that escaped its string literal shows either as
# an extra call or as an argument that is not the value rendered. Prints one JSON object.
#
#   ruby recording_stub.rb FILE...
require "json"

$dsl = []
$c_calls = []

class Recorder < BasicObject
  BLOCKS = %i[livecheck on_macos on_linux on_arm on_intel].freeze
  def initialize(path); @path = path; @values = {}; end
  def method_missing(name, *args, **kw, &blk)
    if args.empty? && kw.empty? && blk.nil?
      $dsl << [@path, name.to_s, [], {}]
      return @values.fetch(name, "<#{name}>")
    end
    $dsl << [@path, name.to_s, args.map { |a| a.is_a?(::Regexp) ? a.source : a.to_s }, kw.transform_keys(&:to_s).transform_values(&:to_s)]
    @values[name] = args[0].to_s if %i[version].include?(name)
    if blk
      ::Recorder.new(@path + [name.to_s]).instance_eval(&blk) if BLOCKS.include?(name)
    end
    nil
  end
  def respond_to_missing?(*) = true
end

def cask(token, &blk)
  $dsl << [[], "cask", [token.to_s], {}]
  Recorder.new(["cask"]).instance_eval(&blk)
end

class Formula
  @recorder = nil
  class << self
    def method_missing(name, *args, **kw, &blk)
      @recorder ||= Recorder.new(["formula"])
      @recorder.__send__(:method_missing, name, *args, **kw, &blk)
    end
    def respond_to_missing?(*) = true
    # Kernel#test is private: a formula's `test do` block would reach it, not method_missing.
    def test(*args, &blk)
      @recorder ||= Recorder.new(["formula"])
      $dsl << [["formula"], "test", args.map(&:to_s), {}]
      nil
    end
  end
end

out = {}
ARGV.each do |file|
  $dsl = []
  $c_calls = []
  trace = TracePoint.new(:c_call, :call) do |tp|
    $c_calls << [tp.event.to_s, tp.defined_class.to_s, tp.method_id.to_s] if tp.path == file
  end
  error = nil
  begin
    trace.enable { load(file, true) }
  rescue ::Exception => e
    error = "#{e.class}: #{e.message}"
  end
  out[file] = { "dsl" => $dsl, "calls" => $c_calls, "error" => error }
end
$stdout.write(JSON.generate(out))
