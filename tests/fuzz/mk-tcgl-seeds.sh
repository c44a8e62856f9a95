#!/bin/bash
# Writes the hand-made seeds of tests/fuzz/corpus-tcgl (seed-asm-*): short
# programs that take tcg-lite to the edges of guest memory and through mode
# switches, for libFuzzer to mutate from.  Needs GNU as and objcopy.
# The 9-byte header is fuzz-tcgl-exec.c's (mode, knobs, CR4 bits, byte 3,
# seed, entry); the code is loaded at 0x30000 (CS base 0x30000 in the
# 16-bit modes).
#
# usage: tests/fuzz/mk-tcgl-seeds.sh [OUTDIR]
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:-$top/tests/fuzz/corpus-tcgl}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# seed NAME HEADER-HEX ASM-SOURCE (bits from the source's .codeNN)
seed() {
    printf '%s\n' "$3" >"$tmp/s.s"
    as --64 "$tmp/s.s" -o "$tmp/s.o"
    objcopy -O binary -j .text "$tmp/s.o" "$tmp/s.bin"
    { printf '%s' "$2" | xxd -r -p; cat "$tmp/s.bin"; } >"$out/seed-asm-$1"
}

# 32-bit flat: accesses that straddle the end of RAM into MMIO, a stack
# there, descriptor tables whose entries straddle it
seed pm32-ram-end 030000000101010100 '
.code32
 mov $0x1ffffe, %eax
 movl $0x12345678, (%eax)
 mov (%eax), %ebx
 mov $0x200002, %esp
 push %eax
 pop %ebx
 mov $0x1ffffc, %edi
 mov $16, %ecx
 rep stosb
 mov $0x1ff000, %esi
 mov $0x1fff80, %edi
 mov $0x2000, %ecx
 rep movsl
 lgdt gdtr
 mov $0x10, %ax
 mov %ax, %ds
 lidt idtr
 int $1
 hlt
gdtr: .word 0xffff
 .long 0x1ffff8
idtr: .word 0x7ff
 .long 0x1ffffc'

# 2-level paging and PAE: the page directory (PDPT) at the end of RAM, in
# MMIO, in the unassigned hole: page walks that read outside RAM
for pd in 1ff000 200000 300000; do
seed pg32-cr3-$pd 040001000202020200 "
.code32
 mov \$0x$pd, %eax
 mov %eax, %cr3
 mov 0x400000, %ebx
 hlt"
done
for pdpt in 1fffe0 20ffe0 300000; do
seed pae-cr3-$pdpt 050004000303030300 "
.code32
 mov \$0x$pdpt, %eax
 mov %eax, %cr3
 invlpg 0x1000
 mov 0x1000, %ebx
 hlt"
done

# 64-bit: string operations across RAM/MMIO/hole/ROM and the top of 4 GiB
seed long64-strings 060004000404040400 '
.code64
 mov $0x1ff000, %rsi
 mov $0x1fff00, %rdi
 mov $0x2000, %rcx
 rep movsb
 mov $0xffff0000, %rdi
 mov $0x3000, %rcx
 rep stosq
 mov $0x20ff00, %rsi
 mov $0x100000, %rdi
 mov $0x400, %rcx
 rep movsq
 mov $0x20fffc, %rsi
 lodsq
 mov $0xfffffffc, %rsi
 lodsq
 std
 mov $0x200004, %rdi
 mov $0x40, %rcx
 rep stosw
 hlt'

# real mode -> protected mode -> long mode, then code at the end of RAM
seed real-to-long 000000000505050500 '
.code16
start:
 mov %cr0, %eax
 or $1, %al
 mov %eax, %cr0
 ljmpl $0x08, $(0x30000 + pm - start)
.code32
pm:
 mov $0x10, %ax
 mov %ax, %ds
 mov %ax, %ss
 mov $0xf000, %esp
 mov %cr4, %eax
 or $0x20, %eax
 mov %eax, %cr4
 mov $0x12000, %eax
 mov %eax, %cr3
 mov $0xc0000080, %ecx
 rdmsr
 or $0x100, %eax
 wrmsr
 mov %cr0, %eax
 or $0x80000000, %eax
 mov %eax, %cr0
 ljmp $0x28, $(0x30000 + lm - start)
.code64
lm:
 mov $0x1ffffc, %rax
 movl $0x90909090, (%rax)
 jmp *%rax'

# 32-bit at CPL 0: into virtual-8086 mode by IRET, then back by INT
seed pm32-to-v86 030000000606060600 '
.code32
 push $0x2000
 push $0x2000
 push $0x2000
 push $0x2000
 push $0x2000
 push $0xf000
 push $0x23202
 push $0x3000
 push $0x0010
 iret'

# 64-bit: CR3 to the end of RAM, random PML4; SYSCALL, SWAPGS, far return
seed long64-sys 062004000707070700 '
.code64
 syscall
 swapgs
 mov $0x1ff000, %rax
 mov %rax, %cr3
 nop
 lretq'
# x87 and SSE with every exception unmasked (the host FPU does the
# arithmetic: it must not trap in the host), then FXRSTOR of random data
seed fpu-unmasked 030004000808080800 '
.code32
 fninit
 push $0x0040
 fldcw (%esp)
 fldz
 fld1
 fdivp
 fwait
 fld1
 fsqrt
 fldz
 fsqrt
 fchs
 fsqrt
 fwait
 movl $0, (%esp)
 ldmxcsr (%esp)
 xorps %xmm0, %xmm0
 divss %xmm0, %xmm1
 sqrtps %xmm0, %xmm2
 cvtps2pi %xmm1, %mm0
 mov $0x40000, %eax
 fxrstor (%eax)
 fld1
 fldz
 fdivrp
 fistpl (%esp)
 fwait
 divps %xmm3, %xmm4
 hlt'

ls -la "$out" | grep seed-asm | wc -l
