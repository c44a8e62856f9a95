/* The smallest Multiboot v1 kernel, used to time "process start to first
 * guest instruction" (bench/kvm_bench.py, the "start" metric).
 * Its first instructions write the marker bytes 0x01 0x02 0x03 to COM1
 * (port 0x3f8; no UART set-up needed: after reset LCR is 0, so the port is
 * the transmit register and the byte goes straight to the serial backend).
 * The harness reads the serial console on a pipe and takes its time when
 * the marker arrives; these control bytes never occur in SeaBIOS's
 * (text) serial output. Then it writes 0 to isa-debug-exit (port 0xf4),
 * so the emulator exits by itself with status 1, and halts.
 * Keep the marker in step with MARKER in bench/kvm_bench.py. */
    .text
    .align 4
    .long 0x1BADB002
    .long 0x00000000
    .long -0x1BADB002
    .globl _start
_start:
    movw $0x3f8, %dx
    movb $0x01, %al
    outb %al, %dx
    movb $0x02, %al
    outb %al, %dx
    movb $0x03, %al
    outb %al, %dx
    xorl %eax, %eax
    outl %eax, $0xf4
1:  hlt
    jmp 1b
